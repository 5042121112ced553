import CEpoll
import Foundation
import Glibc
@testable import SSEKeeperIO

/// A `SocketChannel` with a `RecordingChannelHandler`, on a real `EventLoop`, driven from a test thread.
///
/// Confinement: the channel and handler are touched only on `loop.queue`; the test reaches them through `onLoop`
/// (a `queue.sync`), never directly.
final class LoopbackChannel: @unchecked Sendable {
    let loop: EventLoop
    let fd: Int32
    private let channel: SocketChannel
    private let handler: RecordingChannelHandler

    /// Wraps `fd` (non-blocking) on `loop`; `configure` runs on the loop before `start` (unless `start` is false).
    init(loop: EventLoop, fd: Int32, connecting: Bool = false, start: Bool = true,
         configure: (RecordingChannelHandler) -> Void = { _ in }) {
        self.loop = loop
        self.fd = fd
        (channel, handler) = loop.queue.sync {
            let channel = SocketChannel(fd: fd, loop: loop, connecting: connecting)
            let handler = RecordingChannelHandler()
            configure(handler)
            channel.handler = handler
            if start { channel.start() }
            return (channel, handler)
        }
    }

    /// Runs `body` on the loop's queue and returns its result.
    func onLoop<T>(_ body: (SocketChannel, RecordingChannelHandler) throws -> T) rethrows -> T {
        try loop.queue.sync { try body(channel, handler) }
    }

    /// Runs `body` when the caller is already on `loop.queue` (inside another channel's handler).
    func onLoopAlreadyThere(_ body: (SocketChannel, RecordingChannelHandler) -> Void) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        body(channel, handler)
    }

    /// Starts the channel (when made with `start: false`).
    func start() { onLoop { channel, _ in channel.start() } }

    /// Aborts the channel (closes its descriptor).
    func abort() { onLoop { channel, _ in channel.abort() } }

    /// Polls `condition` on the loop until it holds or `seconds` pass; whether it held.
    func waitUntil(seconds: Double = 10, _ condition: (SocketChannel, RecordingChannelHandler) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if onLoop(condition) { return true }
            if Date() > deadline { return false }
            usleep(2_000)
        }
    }

    /// What the handler received so far.
    var received: [UInt8] { onLoop { $1.received } }
}

/// Event loops shared by the channel tests, one per waiting mode: a loop lives as long as the process (its waiting
/// thread keeps its poller), so tests reuse these rather than leak one per test.
enum ChannelTestLoops {
    /// Every way of waiting `ReadinessPoller` has: the channel tests run in each.
    static let waitingModes: [ReadinessPoller.Waiting] = [.thread, .dispatchSource]

    static let thread = EventLoop(label: "test.channel.thread", waiting: .thread)
    static let dispatchSource = EventLoop(label: "test.channel.dispatch", waiting: .dispatchSource)

    static func loop(_ waiting: ReadinessPoller.Waiting) -> EventLoop {
        switch waiting {
        case .thread: thread
        case .dispatchSource: dispatchSource
        }
    }
}

/// A non-blocking listening socket on 127.0.0.1 (an ephemeral port) that a test accepts from itself.
final class LoopbackListener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init(backlog: Int32 = 1024) throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0]
        fd = try Socket.listen(on: address, backlog: backlog)
        port = SocketAddress.local(of: fd)?.port ?? 0
    }

    /// The address to connect to.
    var address: SocketAddress {
        get throws { try SocketAddress.resolve(host: "127.0.0.1", port: port)[0] }
    }

    /// Accepts one connection (non-blocking, as the proxy's), waiting up to 5 s for it.
    func acceptOne() throws -> Int32 {
        let deadline = Date().addingTimeInterval(5)
        while true {
            switch Socket.accept(from: fd) {
            case .accepted(let connection, _): return connection
            case .wouldBlock where Date() < deadline: usleep(1_000)
            case .wouldBlock: throw TestError("no connection to accept on \(port)")
            case .failed(let code): throw TestError("accept: \(SocketError.message(errno: code))")
            }
        }
    }

    /// Accepts a connection made by a blocking test client, and wraps the server side in a channel on `loop`.
    func connectedPair(loop: EventLoop, start: Bool = true, configure: (RecordingChannelHandler) -> Void = { _ in })
        throws -> (peer: TestSocket, channel: LoopbackChannel) {
        let peer = try TestSocket.connect(port: port)
        let fd = try acceptOne()
        return (peer, LoopbackChannel(loop: loop, fd: fd, start: start, configure: configure))
    }

    func close() { Glibc.close(fd) }
}

/// Runs `body` with a channel on the shared loop for `waiting` (started, unless `start` is false; `configure` as in
/// `LoopbackChannel.init`) and the blocking test peer connected to it, over a fresh listener on 127.0.0.1. The
/// channel is aborted and the listener closed however `body` ends.
func withConnectedChannel(_ waiting: ReadinessPoller.Waiting, start: Bool = true,
                          configure: (RecordingChannelHandler) -> Void = { _ in },
                          _ body: (_ peer: TestSocket, _ channel: LoopbackChannel) throws -> Void) throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let loop = ChannelTestLoops.loop(waiting)
    let (peer, channel) = try listener.connectedPair(loop: loop, start: start, configure: configure)
    defer { channel.abort() }
    try body(peer, channel)
}

extension SocketChannel.WriteOutcome {
    /// Whether the write was accepted (`.written`: sent at once, or queued for the writable turn).
    var isWritten: Bool {
        if case .written = self { return true }
        return false
    }
}

/// Makes `fd` blocking again (an accepted descriptor handed to a `TestSocket`).
func makeBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
}

/// Bytes `0, 1, …, 250, 0, …`: a pattern where a lost or reordered run shows.
func bytePattern(count: Int, seed: Int = 0) -> [UInt8] {
    // Period by period: a closure per byte takes seconds for 16 MiB in a debug build.
    let period = (0..<251).map { UInt8(truncatingIfNeeded: ($0 + seed) % 251) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + period.count)
    while bytes.count < count { bytes.append(contentsOf: period) }
    bytes.removeLast(bytes.count - count)
    return bytes
}

/// The entries of /proc/self/fd: every open descriptor of this process (the listing's own included).
func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// This process's sockets whose local or peer port is one of `ports` (on 127.0.0.1): a count other tests running
/// at the same time cannot disturb, since no other socket can use a port while a listener holds it.
func socketsUsing(ports: Set<UInt16>) -> Int {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return -1 }
    var count = 0
    for name in names {
        guard let fd = Int32(name),
              let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
              target.hasPrefix("socket:") else { continue }
        if let local = SocketAddress.local(of: fd), local.family == AF_INET, ports.contains(local.port) {
            count += 1
        } else if let peer = SocketAddress.peer(of: fd), peer.family == AF_INET, ports.contains(peer.port) {
            count += 1
        }
    }
    return count
}

/// Where `received` departs from `expected`, in a line (an expectation on two large arrays would print both
/// whole); nil when they are equal.
func firstDifference(_ received: [UInt8], _ expected: [UInt8]) -> String? {
    guard received != expected else { return nil }
    let shorter = min(received.count, expected.count)
    let index = (0..<shorter).first { received[$0] != expected[$0] } ?? shorter
    return "received \(received.count) bytes, expected \(expected.count); first difference at byte \(index)"
}

/// The events `fd` is registered for in this process's epoll sets, as the kernel lists them in
/// `/proc/self/fdinfo/<epoll fd>` (`tfd: <fd> events: <hex> ...`), or nil when no set holds it. A descriptor is never
/// duplicated here, so at most one set holds its number.
func epollRegisteredEvents(of fd: Int32) -> UInt32? {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fdinfo") else { return nil }
    for entry in entries {
        guard let text = try? String(contentsOfFile: "/proc/self/fdinfo/" + entry, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n") where line.hasPrefix("tfd:") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 4, words[1] == "\(fd)", words[2] == "events:" else { continue }
            return UInt32(words[3], radix: 16)
        }
    }
    return nil
}

/// The `EPOLLIN` and `EPOLLOUT` bits of `epollRegisteredEvents`, as the poller registers them (`Sources/CEpoll`).
let epollInBit = UInt32(SSK_EPOLLIN)
let epollOutBit = UInt32(SSK_EPOLLOUT)
