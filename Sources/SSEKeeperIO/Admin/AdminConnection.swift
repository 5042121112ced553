import Glibc
import SSEKeeperCore

/// One admin request: read a head (at most `AdminEndpoint.maxHeadBytes`, within the header timeout), answer it,
/// close. No keep-alive, no pipelining: bytes after the head are read and discarded.
///
/// Confinement: created on the admin loop and every method runs there; kept alive by `loop.sessions` until it
/// finishes.
final class AdminConnection: SocketChannelHandler, LoopSession {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    /// Its place in the loop's sessions (`LoopSession`).
    var sessionSlot = -1
    private let channel: SocketChannel
    private let loop: EventLoop
    private let server: AdminServer
    private var inbound: [UInt8] = []
    private var parser = HeadParser(maxHeaderBytes: AdminEndpoint.maxHeadBytes)
    private var answered = false
    private var finished = false
    private var deadline: UInt64 = 0

    init(fd: Int32, server: AdminServer) {
        self.server = server
        loop = server.loop
        channel = SocketChannel(fd: fd, loop: loop)
    }

    /// Registers with the loop and starts reading. Call on the admin loop.
    func start() {
        loop.sessions.insert(self)
        channel.handler = self
        channel.start()
        setDeadline(EventLoop.now() + AdminServer.headerTimeoutNanos)
    }

    private func setDeadline(_ value: UInt64) {
        deadline = value
        loop.schedule(self, at: value)
    }

    func deadlineReached(_ entryDeadline: UInt64, now: UInt64) {
        guard !finished, entryDeadline == deadline else { return }
        if answered {
            finish()
        } else {
            answer(AdminEndpoint.errorResponse(status: 408, detail: "the request head did not arrive in time"))
        }
    }

    func channelReadable(_ channel: SocketChannel) {
        while !finished {
            switch channel.read() {
            case .bytes(let count):
                guard !answered else { continue }
                inbound.append(contentsOf: loop.readBuffer[..<count])
                parse()
            case .wouldBlock:
                return
            case .endOfFile, .failed:
                finish()
                return
            }
        }
    }

    private func parse() {
        do {
            let result = try inbound.withUnsafeBytes { try parser.parseRequest($0) }
            guard case .complete(let head, _) = result else { return }
            answer(server.response(to: head))
        } catch {
            answer(AdminEndpoint.errorResponse(status: (error as? HTTPParseError)?.status ?? 400, detail: "\(error)"))
        }
    }

    private func answer(_ bytes: [UInt8]) {
        answered = true
        inbound = []
        if case .failed = channel.write(bytes) {
            finish()
            return
        }
        channel.shutdownWriteAfterFlush()
        setDeadline(EventLoop.now() + AdminServer.closingTimeoutNanos)
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {}

    func channelDrained(_ channel: SocketChannel) {}

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        finish()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        channel.abort()
        loop.endSession(self)
        server.connectionClosed()
    }
}
