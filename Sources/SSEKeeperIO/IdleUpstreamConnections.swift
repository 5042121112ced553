import Glibc
import SSEKeeperCore

/// The idle keep-alive connections to upstream servers that one event loop keeps for reuse
/// (`upstream_keepalive N`: at most N per upstream server per loop, as nginx's `keepalive` is per worker).
///
/// - A connection is parked only after a complete response (the session decides that); the most recently parked
///   one is taken first (the warmest), and the oldest is closed when a server's list is over its capacity.
/// - While parked, its read source stays armed with this pool as the handler: a close, reset or stray byte from
///   the upstream removes and closes it at once, so it is never handed out known-dead. `take` also peeks
///   (`MSG_PEEK`) so a close that arrived but whose event has not run yet is caught.
/// - Each parked connection has a deadline (`upstream_keepalive_timeout`); one deadline-heap entry for the whole
///   pool (its earliest) sweeps expired ones, so reuse does not grow the heap.
/// - Pools are keyed by upstream name and resolved server address and outlive a config reload: the reload prunes
///   servers that left the configuration and lowers lists to a smaller `upstream_keepalive` (`prune`).
///
/// Confinement: owned by its `EventLoop` and used only on `loop.queue`.
final class IdleUpstreamConnections: SocketChannelHandler, DeadlineTarget {
    /// Which connections are interchangeable: same upstream pool, same server address.
    struct Key: Hashable {
        var upstream: String
        var server: String
    }

    private struct Entry {
        let channel: SocketChannel
        let deadline: UInt64
    }

    private unowned let loop: EventLoop
    /// Per key, oldest first.
    private var entries: [Key: [Entry]] = [:]
    private var keyOfChannel: [ObjectIdentifier: Key] = [:]
    private var scheduledDeadline: UInt64 = .max

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Idle connections held now, over every key.
    var count: Int { keyOfChannel.count }

    /// Idle connections held now for `key`.
    func count(for key: Key) -> Int { entries[key]?.count ?? 0 }

    /// The most recently parked connection of `key` that is still open and not expired, now owned by the caller
    /// (its handler cleared); `nil` when there is none. Dead or expired ones met on the way are closed.
    func take(_ key: Key, now: UInt64) -> SocketChannel? {
        while var list = entries[key], let entry = list.popLast() {
            entries[key] = list.isEmpty ? nil : list
            keyOfChannel[ObjectIdentifier(entry.channel)] = nil
            if entry.deadline > now, !entry.channel.isClosed, entry.channel.isIdleAndOpen() {
                entry.channel.handler = nil
                return entry.channel
            }
            entry.channel.abort()
        }
        return nil
    }

    /// Keeps `channel` (idle, after a complete response, nothing queued to write) for `timeoutNanos`; closes the
    /// oldest connection of `key` beyond `capacity`, or `channel` itself when `capacity` is 0.
    func park(_ channel: SocketChannel, key: Key, capacity: Int, timeoutNanos: UInt64, now: UInt64) {
        guard capacity > 0, !channel.isClosed else {
            channel.abort()
            return
        }
        channel.handler = self
        channel.resumeReading()
        let deadline = now + timeoutNanos
        var list = entries[key] ?? []
        list.append(Entry(channel: channel, deadline: deadline))
        keyOfChannel[ObjectIdentifier(channel)] = key
        while list.count > capacity {
            let oldest = list.removeFirst()
            keyOfChannel[ObjectIdentifier(oldest.channel)] = nil
            oldest.channel.abort()
        }
        entries[key] = list
        schedule(deadline)
    }

    /// Closes every connection whose key `capacity(key)` gives 0 (its upstream or server left the configuration,
    /// or its pool was turned off), and the oldest ones above a lowered capacity.
    func prune(capacity: (Key) -> Int) {
        for (key, list) in entries {
            let keep = max(0, capacity(key))
            guard list.count > keep else { continue }
            for entry in list.prefix(list.count - keep) {
                keyOfChannel[ObjectIdentifier(entry.channel)] = nil
                entry.channel.abort()
            }
            entries[key] = keep == 0 ? nil : Array(list.suffix(keep))
        }
    }

    /// Closes every idle connection (stop and drain).
    func closeAll() {
        prune { _ in 0 }
    }

    // MARK: Watching idle connections

    /// A parked connection turned readable: the upstream closed or reset it, or sent bytes nobody asked for.
    /// Either way it cannot carry another request.
    func channelReadable(_ channel: SocketChannel) {
        guard keyOfChannel[ObjectIdentifier(channel)] != nil else { return }
        if case .wouldBlock = channel.read() { return }
        remove(channel)
        channel.abort()
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {}

    func channelDrained(_ channel: SocketChannel) {}

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        remove(channel)
        channel.abort()
    }

    private func remove(_ channel: SocketChannel) {
        guard let key = keyOfChannel.removeValue(forKey: ObjectIdentifier(channel)) else { return }
        entries[key]?.removeAll { $0.channel === channel }
        if entries[key]?.isEmpty == true { entries[key] = nil }
    }

    // MARK: Idle timeout

    private func schedule(_ deadline: UInt64) {
        guard deadline < scheduledDeadline else { return }
        scheduledDeadline = deadline
        loop.schedule(self, at: deadline)
    }

    func deadlineReached(_ deadline: UInt64, now loopNow: UInt64) {
        if deadline == scheduledDeadline { scheduledDeadline = .max }
        // Popped up to the loop's slack early: counts as reached (see `DeadlineTarget`).
        let now = max(loopNow, deadline)
        var earliest = UInt64.max
        for (key, list) in entries {
            var kept: [Entry] = []
            for entry in list {
                if entry.deadline <= now {
                    keyOfChannel[ObjectIdentifier(entry.channel)] = nil
                    entry.channel.abort()
                } else {
                    kept.append(entry)
                    earliest = min(earliest, entry.deadline)
                }
            }
            entries[key] = kept.isEmpty ? nil : kept
        }
        if earliest != .max { schedule(earliest) }
    }
}
