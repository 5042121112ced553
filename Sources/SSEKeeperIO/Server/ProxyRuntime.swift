import SSEKeeperCore
import Synchronization

/// What outlives a config reload: the current `ProxyContext` (swapped whole by `SIGHUP`), the process-wide
/// connection counts the limits are checked against, and whether the process is draining. Safe from any thread.
///
/// Sessions take `context` when a request starts, so a reload applies to every new request at once while a
/// request already in flight (an open stream above all) keeps the settings it started with.
final class ProxyRuntime: Sendable {
    let logger: Logger
    /// Open client connections, for `max_connections`.
    let openConnections = Atomic<Int>(0)
    /// Set once draining starts: no new connections, every open one is ending.
    let draining = Atomic<Bool>(false)

    /// Which loop holds each ridden-through stream (several loops only).
    let rideThroughLoops: RideThroughDirectory
    /// The bytes held in all ride-through replay buffers of the process, for `client_resume_memory`.
    let rideThroughHeldBytes = Atomic<Int>(0)

    private let current: Locked<ProxyContext>
    /// Counts `replace` calls (after each one's context is in place), so a loop can tell whether the context it
    /// holds is still current without taking `current`'s lock (`EventLoop.context(of:)`).
    let contextGeneration = Atomic<UInt64>(0)
    private let connectionsPerHost = Locked(HostCounts())

    /// Open connections per client host. A host whose last connection ends keeps its entry, at zero, until more
    /// than `maxIdleHosts` such entries pile up and are swept together: most clients come back (a load balancer
    /// always does), and removing and re-inserting the key for every connection of a host with one open at a time
    /// was two more hashes and a table write per connection (callgrind).
    private struct HostCounts {
        var open: [String: Int] = [:]
        var idle = 0
    }

    /// Entries at zero kept before a sweep removes them all.
    static let maxIdleHosts = 1024

    init(context: ProxyContext, loopCount: Int = 1) {
        logger = context.logger
        current = Locked(context)
        rideThroughLoops = RideThroughDirectory(loopCount: loopCount)
    }

    /// The configuration new requests use. On a loop, `EventLoop.context(of:)` reads it without the lock.
    var context: ProxyContext { current.withLock { $0 } }

    /// Makes `context` the one new requests use.
    func replace(with context: ProxyContext) {
        current.withLock { $0 = context }
        contextGeneration.add(1, ordering: .releasing)
    }

    /// Why a new connection is refused, or nil when it is admitted (then `release(host:)` must follow its end).
    func admit(host: String, limits: Limits) -> (reason: RejectionReason, message: String)? {
        let open = openConnections.add(1, ordering: .relaxed).newValue
        if open > limits.maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            return (.maxConnections, "max_connections \(limits.maxConnections) reached")
        }
        // Counted whether or not a per-client limit is set, so a reload that sets one finds true counts.
        let perHost = limits.maxConnectionsPerClient ?? .max
        // One hash of the host for a host already counted (a second to insert a new one), one in `release`.
        let admitted = connectionsPerHost.withLock { hosts in
            let index = hosts.open.index(forKey: host)
            let count = index.map { hosts.open.values[$0] } ?? 0
            guard count < perHost else { return false }
            if let index {
                if count == 0 { hosts.idle -= 1 }
                hosts.open.values[index] = count + 1
            } else {
                hosts.open[host] = 1
            }
            return true
        }
        guard admitted else {
            openConnections.subtract(1, ordering: .relaxed)
            return (.maxConnectionsPerClient, "max_connections_per_ip \(perHost) reached for \(host)")
        }
        return nil
    }

    /// A connection admitted by `admit(host:limits:)` has ended.
    func release(host: String) {
        openConnections.subtract(1, ordering: .relaxed)
        connectionsPerHost.withLock { hosts in
            guard let index = hosts.open.index(forKey: host), hosts.open.values[index] > 0 else { return }
            hosts.open.values[index] -= 1
            guard hosts.open.values[index] == 0 else { return }
            hosts.idle += 1
            if hosts.idle > Self.maxIdleHosts {
                hosts.open = hosts.open.filter { $0.value > 0 }
                hosts.idle = 0
            }
        }
    }
}
