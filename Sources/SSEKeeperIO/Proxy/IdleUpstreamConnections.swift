import SSEKeeperCore

/// The idle keep-alive connections to upstream servers that one event loop keeps for reuse
/// (`upstream_keepalive N`: at most N per upstream pool per loop, over all its servers, as nginx's `keepalive`
/// is per upstream block and worker).
///
/// - A connection is parked only after a complete response (the session decides that); the most recently parked
///   one to the wanted server is taken first (the warmest), and the pool's least recently parked one is closed
///   when the pool is over its capacity.
/// - While parked, its socket stays registered with this pool as the handler: a close, reset or stray byte from
///   the upstream removes and closes it at once, so it is never handed out known-dead. `take` also peeks
///   (`MSG_PEEK`) so a close that arrived but whose event has not run yet is caught.
/// - Each parked connection has a deadline (`upstream_keepalive_timeout`); one deadline-heap entry for the whole
///   pool (its earliest) sweeps expired ones, so reuse does not grow the heap.
/// - Pools are keyed by upstream name and resolved server address and outlive a config reload: the reload prunes
///   servers that left the configuration and trims pools to a smaller `upstream_keepalive` (`prune`).
///
/// Confinement: owned by its `EventLoop` and used only on `loop.queue`.
final class IdleUpstreamConnections: SocketChannelHandler, DeadlineTarget {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    /// Which connections are interchangeable: same upstream pool, same server address.
    struct Key: Hashable {
        var upstream: String
        var server: String
    }

    private struct Entry {
        let channel: SocketChannel
        let deadline: UInt64
        /// Parking order, for least-recently-parked eviction across a pool's servers.
        let sequence: UInt64
    }

    private unowned let loop: EventLoop
    /// Per key, oldest first.
    private var entries: [Key: [Entry]] = [:]
    private var keyOfChannel: [ObjectIdentifier: Key] = [:]
    /// Idle connections per upstream name.
    private var countOfUpstream: [String: Int] = [:]
    private var nextSequence: UInt64 = 0
    private var scheduledDeadline: UInt64 = .max

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Idle connections held now, over every key.
    var count: Int { keyOfChannel.count }

    /// Idle connections held now for `upstream`, over all its servers.
    func count(upstream: String) -> Int { countOfUpstream[upstream] ?? 0 }

    /// The most recently parked connection of `key` that is still open and not expired, now owned by the caller
    /// (its handler cleared); `nil` when there is none. Dead or expired ones met on the way are closed.
    func take(_ key: Key, now: UInt64) -> SocketChannel? {
        while var list = entries[key], let entry = list.popLast() {
            entries[key] = list.isEmpty ? nil : list
            forget(entry.channel, of: key)
            if entry.deadline > now, !entry.channel.isClosed, entry.channel.isIdleAndOpen() {
                entry.channel.handler = nil
                return entry.channel
            }
            entry.channel.abort()
        }
        return nil
    }

    /// Keeps `channel` (idle, after a complete response, nothing queued to write) for `timeoutNanos`; closes the
    /// least recently parked connection of `key.upstream` beyond `capacity`, or `channel` itself when it is 0.
    func park(_ channel: SocketChannel, key: Key, capacity: Int, timeoutNanos: UInt64, now: UInt64) {
        guard capacity > 0, !channel.isClosed else {
            channel.abort()
            return
        }
        channel.handler = self
        channel.resumeReading()
        let deadline = now + timeoutNanos
        nextSequence += 1
        entries[key, default: []].append(Entry(channel: channel, deadline: deadline, sequence: nextSequence))
        keyOfChannel[ObjectIdentifier(channel)] = key
        countOfUpstream[key.upstream, default: 0] += 1
        trim(key.upstream, to: capacity)
        schedule(deadline)
    }

    /// Closes the connections of servers `keeps` rejects (their upstream or server left the configuration), then
    /// the least recently parked ones of each upstream above `capacity(upstream)` (0 when it was turned off).
    func prune(keeps: (Key) -> Bool, capacity: (String) -> Int) {
        for (key, list) in entries where !keeps(key) {
            entries[key] = nil
            for entry in list {
                forget(entry.channel, of: key)
                entry.channel.abort()
            }
        }
        for upstream in Set(entries.keys.map(\.upstream)) {
            trim(upstream, to: max(0, capacity(upstream)))
        }
    }

    /// Closes every idle connection (stop and drain).
    func closeAll() {
        prune(keeps: { _ in false }, capacity: { _ in 0 })
    }

    /// Closes the least recently parked connections of `upstream` until at most `capacity` remain.
    private func trim(_ upstream: String, to capacity: Int) {
        while count(upstream: upstream) > capacity {
            // The oldest entry of each server's list is that server's least recently parked one.
            var oldest: (key: Key, sequence: UInt64)?
            for (key, list) in entries where key.upstream == upstream {
                if let first = list.first, first.sequence < (oldest?.sequence ?? .max) { oldest = (key, first.sequence) }
            }
            guard let key = oldest?.key, var list = entries[key] else { return }
            let entry = list.removeFirst()
            entries[key] = list.isEmpty ? nil : list
            forget(entry.channel, of: key)
            entry.channel.abort()
        }
    }

    /// Drops the bookkeeping of `channel`, which was parked under `key` (its list entry is the caller's).
    private func forget(_ channel: SocketChannel, of key: Key) {
        guard keyOfChannel.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        let remaining = (countOfUpstream[key.upstream] ?? 1) - 1
        countOfUpstream[key.upstream] = remaining > 0 ? remaining : nil
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
        guard let key = keyOfChannel[ObjectIdentifier(channel)] else { return }
        forget(channel, of: key)
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
        scheduledDeadline = .max  // popped: out of the heap until scheduled again (one entry per target)
        // Popped up to the loop's slack early: counts as reached (see `DeadlineTarget`).
        let now = max(loopNow, deadline)
        var earliest = UInt64.max
        for (key, list) in entries {
            var kept: [Entry] = []
            for entry in list {
                if entry.deadline <= now {
                    forget(entry.channel, of: key)
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
