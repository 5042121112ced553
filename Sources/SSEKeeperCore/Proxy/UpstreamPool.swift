/// What an upstream pool decided that is worth one log line: a server marked down, or back up.
public enum UpstreamPoolEvent: Sendable, Equatable {
    /// `server` failed `failures` connects in a row and is skipped for `coolDown`.
    case markedDown(server: Int, failures: Int, coolDown: Duration)
    /// `server`, marked down before, answered again; it had been down for `downFor`.
    case backUp(server: Int, downFor: Duration)

    /// The log line, e.g. `upstream api: server 10.0.0.5:9000 marked down for 10s after 3 failed connects`.
    /// - Parameter serverName: the server's address as configured, for the index the event carries.
    public func message(upstream: String, serverName: String) -> String {
        switch self {
        case .markedDown(_, let failures, let coolDown):
            let noun = failures == 1 ? "failed connect" : "failed connects"
            return "upstream \(upstream): server \(serverName) marked down for \(ConfigValue.formatDuration(coolDown)) "
                + "after \(failures) \(noun)"
        case .backUp(_, let downFor):
            return "upstream \(upstream): server \(serverName) is back up after \(TimeAmount(downFor).formatted(.secondsToMilliseconds)) down"
        }
    }
}

/// The balancing and passive-health state of one upstream pool: which servers to try for a request, in which
/// order, and which are cooling down after failures. Pure: time is passed in (monotonic nanoseconds).
///
/// - **Smooth weighted round-robin** (nginx's `ngx_http_upstream_get_peer`): every pick adds each available
///   server's weight to its running score, picks the highest score (the first on a tie) and subtracts the sum of
///   the weights from it. Weights 5:1:1 give `a a b a c a a`: the exact shares over every 7 picks, without bursts.
/// - **Backups** (`backup`) are picked, among themselves the same way, only when no primary is available;
///   while some primary is available they follow the primaries in the order, as a last resort for this request.
/// - **Passive health**: `max_fails` failed connects in a row (refused, timed out, or closed before a response
///   head) mark a server down for `fail_timeout`. A success clears the count. Once the cool-down has passed the
///   server is tried again; one more failure re-arms the cool-down at once (no new log line), a success brings it
///   back (`.backUp`). `max_fails=0` never marks a server down.
/// - **Nothing available**: servers cooling down are still tried, after every available one, the least recently
///   failed first, so a request is never answered 502 without a connect attempt.
///
/// Confinement: a value; the shell keeps one per upstream behind a lock shared by its event loops.
public struct UpstreamPool: Sendable {
    /// One server's health, in the pool's order.
    private struct Health: Sendable {
        var consecutiveFailures = 0
        /// Skipped until this time (0: not cooling down).
        var downUntil: UInt64 = 0
        /// When the last failure happened (0: never), to order servers that are down.
        var lastFailureAt: UInt64 = 0
        /// When it was marked down, while it is (logged once, until a success brings it back).
        var markedDownAt: UInt64?
        /// The smooth weighted round-robin score.
        var score = 0
    }

    /// The servers, in declaration order; indices into this array name servers everywhere.
    public let servers: [UpstreamServer]
    private var health: [Health]

    /// - Precondition: at least one server (the config parser guarantees one that is not a backup).
    public init(servers: [UpstreamServer]) {
        precondition(!servers.isEmpty, "an upstream has at least one server (the config parser guarantees it)")
        self.servers = servers
        health = Array(repeating: Health(), count: servers.count)
    }

    /// Whether `server` may be picked at `now` (it is not cooling down).
    public func isAvailable(server: Int, now: UInt64) -> Bool {
        health[server].downUntil <= now
    }

    /// Every server once, in the order to try them for one request; advances the rotation by one pick.
    ///
    /// Available primaries first (the weighted pick, then the others by score), then available backups (the
    /// weighted pick among them when no primary is available), then the servers cooling down, least recently
    /// failed first.
    public mutating func attemptOrder(now: UInt64) -> [Int] {
        // One server (most upstreams): it is the whole order, available or not, and its pick leaves its score as
        // it was (+weight, then -total); one array instead of the general path's four.
        if servers.count == 1 { return [0] }
        let primaries = servers.indices.filter { !servers[$0].isBackup && isAvailable(server: $0, now: now) }
        let backups = servers.indices.filter { servers[$0].isBackup && isAvailable(server: $0, now: now) }
        var order: [Int] = []
        order.reserveCapacity(servers.count)
        if !primaries.isEmpty {
            order += pick(among: primaries)
            order += ranked(backups)
        } else {
            order += pick(among: backups)
        }
        let down = servers.indices.filter { !isAvailable(server: $0, now: now) }
            .sorted { (health[$0].lastFailureAt, $0) < (health[$1].lastFailureAt, $1) }
        order += down
        return order
    }

    /// A connect to `server` failed (refused, timed out, or closed before a response head).
    /// Returns `.markedDown` when this failure marks it down and it was not already.
    public mutating func noteFailure(server: Int, now: UInt64) -> UpstreamPoolEvent? {
        let options = servers[server]
        var state = health[server]
        state.consecutiveFailures += 1
        state.lastFailureAt = now
        var event: UpstreamPoolEvent?
        if options.maxFails > 0, state.consecutiveFailures >= options.maxFails {
            state.downUntil = TimeAmount(options.failTimeout).deadline(after: now)
            if state.markedDownAt == nil {
                state.markedDownAt = now
                event = .markedDown(server: server, failures: state.consecutiveFailures, coolDown: options.failTimeout)
            }
        }
        health[server] = state
        return event
    }

    /// `server` answered (a response head arrived). Returns `.backUp` when it had been marked down.
    public mutating func noteSuccess(server: Int, now: UInt64) -> UpstreamPoolEvent? {
        var state = health[server]
        defer { health[server] = state }
        state.consecutiveFailures = 0
        state.downUntil = 0
        guard let since = state.markedDownAt else { return nil }
        state.markedDownAt = nil
        return .backUp(server: server, downFor: TimeAmount(nanoseconds: now &- since).duration)
    }

    /// `candidates` (non-empty or empty) with the smooth weighted pick first, the rest by score.
    private mutating func pick(among candidates: [Int]) -> [Int] {
        guard !candidates.isEmpty else { return [] }
        var total = 0
        var best = candidates[0]
        for index in candidates {
            health[index].score += servers[index].weight
            total += servers[index].weight
            if health[index].score > health[best].score { best = index }
        }
        health[best].score -= total
        return [best] + ranked(candidates.filter { $0 != best })
    }

    /// `candidates` by descending score (then index), without advancing anything: the next best after a pick.
    private func ranked(_ candidates: [Int]) -> [Int] {
        candidates.sorted { (-health[$0].score, $0) < (-health[$1].score, $1) }
    }
}
