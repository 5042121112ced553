import Dispatch
import Glibc
import SSEKeeperCore

/// The built-in backend of `ssekeeper demo`: a small SSE server on loopback that sends one event at once, then one
/// every `quietInterval` — long silences that the proxy in front fills with heartbeats.
///
/// It honours `Last-Event-ID` (numbering resumes after it) and stops a stream's timer when its client goes away.
/// Confinement: everything runs on its own loop's queue.
public final class DemoBackend: @unchecked Sendable {
    private let loop = EventLoop(label: "ssekeeper.demo-backend")
    private let listenFD: Int32
    private var source: DispatchSourceRead?
    private var streams: [ObjectIdentifier: DemoStream] = [:]
    let quietIntervalNanos: UInt64

    /// The port the backend listens on (127.0.0.1).
    public let port: UInt16

    /// Binds 127.0.0.1 on an ephemeral port.
    public init(quietInterval: Duration) throws(SocketError) {
        quietIntervalNanos = TimeAmount(quietInterval).nanoseconds
        let address = try SocketAddress.forListen(ListenAddress(host: "127.0.0.1", port: 0))
        listenFD = try Socket.listen(on: address)
        port = SocketAddress.local(of: listenFD)?.port ?? 0
    }

    /// Starts accepting.
    public func start() {
        loop.queue.async { [self] in
            let source = DispatchSource.makeReadSource(fileDescriptor: listenFD, queue: loop.queue)
            source.setEventHandler { [self] in accept() }
            self.source = source
            source.activate()
        }
    }

    private func accept() {
        while case .accepted(let fd, _) = Socket.accept(from: listenFD) {
            let stream = DemoStream(fd: fd, backend: self, loop: loop)
            streams[ObjectIdentifier(stream)] = stream
            stream.start()
        }
    }

    fileprivate func remove(_ stream: DemoStream) {
        streams[ObjectIdentifier(stream)] = nil
    }
}

/// One demo SSE response. Waits for the request head, answers with a chunked `text/event-stream`, then ticks.
private final class DemoStream: SocketChannelHandler, DeadlineTarget {
    /// Its place in the loop's deadline heap (`DeadlineTarget`).
    var deadlineSlot = -1
    private let channel: SocketChannel
    private let backend: DemoBackend
    private let loop: EventLoop
    private var request: [UInt8] = []
    private var parser = HeadParser(maxHeaderBytes: 16 * 1024)
    private var nextID = 1
    private var streaming = false
    private var closed = false

    init(fd: Int32, backend: DemoBackend, loop: EventLoop) {
        channel = SocketChannel(fd: fd, loop: loop)
        self.backend = backend
        self.loop = loop
    }

    func start() {
        channel.handler = self
        channel.start()
    }

    func channelReadable(_ channel: SocketChannel) {
        while !closed {
            switch channel.read() {
            case .bytes(let count):
                guard !streaming else { continue }
                request.append(contentsOf: UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
                let result = try? request.withUnsafeBytes { try parser.parseRequest($0) }
                switch result {
                case .complete(let head, _)?:
                    respond(to: head)
                case .needMore?:
                    continue
                case nil:
                    _ = channel.write(ErrorResponse.bytes(status: 400, detail: "bad request"))
                    close()
                }
            case .wouldBlock:
                return
            case .endOfFile, .failed:
                close()
                return
            }
        }
    }

    private func respond(to head: RequestHead) {
        streaming = true
        request = []
        if let last = head.headers.first("Last-Event-ID").flatMap(Int.init) { nextID = last + 1 }
        let headBytes = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        _ = channel.write(Array(headBytes.utf8))
        tick()
    }

    private func tick() {
        let seconds = TimeAmount(nanoseconds: backend.quietIntervalNanos).seconds
        let event = "id: \(nextID)\nevent: tick\ndata: {\"n\": \(nextID), \"time\": \"\(Logger.timestamp())\", \"next_in_s\": \(seconds)}\n\n"
        nextID += 1
        var bytes: [UInt8] = []
        Array(event.utf8).withUnsafeBytes { ChunkedEncoder.appendChunk($0, to: &bytes) }
        if case .failed = channel.write(bytes) {
            close()
            return
        }
        loop.schedule(self, at: EventLoop.now() + backend.quietIntervalNanos)
    }

    func deadlineReached(_ deadline: UInt64, now: UInt64) {
        guard !closed else { return }
        tick()
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {}
    func channelDrained(_ channel: SocketChannel) {}
    func channelWriteFailed(_ channel: SocketChannel, error: Int32) { close() }

    private func close() {
        guard !closed else { return }
        closed = true
        channel.abort()
        loop.cancelDeadline(self)
        backend.remove(self)
    }
}
