/// Round-robin order over an upstream's servers, with refused servers skipped for the next one.
///
/// For each request `nextAttemptOrder()` returns every server once, starting one further than the previous
/// request did; the shell tries them in that order and moves on when a connect is refused or fails.
/// Owned by one event loop (not shared between threads).
public struct UpstreamRotation: Sendable {
    /// How many servers the pool has.
    public let serverCount: Int
    private var next = 0

    public init(serverCount: Int) {
        precondition(serverCount > 0, "an upstream has at least one server (the config parser guarantees it)")
        self.serverCount = serverCount
    }

    /// Server indices in the order to try them for one request; advances the rotation by one.
    public mutating func nextAttemptOrder() -> [Int] {
        let start = next
        next = (next + 1) % serverCount
        return (0..<serverCount).map { (start + $0) % serverCount }
    }
}
