import SSEKeeperCore

/// Which event loop holds each ridden-through stream, so that a reconnect accepted on another loop can be handed to
/// the stream's loop (`HTTP1Connection.handOverToStreamLoop`). Safe from any thread.
///
/// Only with several loops: with one, every stream is on the loop that accepts its reconnect, and nothing is kept
/// here (no lock is taken). With several, a stream takes the lock twice in its life (its SSE head, its end) and a
/// reconnect carrying a stamped id once; no event does.
final class RideThroughDirectory: Sendable {
    /// Whether the process runs several loops.
    let isEnabled: Bool
    private let loops = Locked<[StreamToken: EventLoop]>([:])

    init(loopCount: Int) {
        isEnabled = loopCount > 1
    }

    func add(_ token: StreamToken, on loop: EventLoop) {
        guard isEnabled else { return }
        loops.withLock { $0[token] = loop }
    }

    func remove(_ token: StreamToken) {
        guard isEnabled else { return }
        loops.withLock { $0[token] = nil }
    }

    /// The loop holding the stream `token` names, if any.
    func loop(for token: StreamToken) -> EventLoop? {
        guard isEnabled else { return nil }
        return loops.withLock { $0[token] }
    }
}
