import Dispatch
import Glibc

/// What a `SocketChannel` tells its owner. Called on the channel's loop queue.
protocol SocketChannelHandler: AnyObject {
    /// Bytes (or EOF, or an error) are ready: call `channel.read()` until it says `.wouldBlock`, or pause reading.
    func channelReadable(_ channel: SocketChannel)
    /// A non-blocking connect finished: `error` is 0 on success, else the errno (e.g. `ECONNREFUSED`).
    func channelConnected(_ channel: SocketChannel, error: Int32)
    /// Every queued byte has been handed to the kernel (after a write had to wait).
    func channelDrained(_ channel: SocketChannel)
    /// Writing queued bytes failed (peer reset or closed): the channel is unusable.
    func channelWriteFailed(_ channel: SocketChannel, error: Int32)
}

/// One non-blocking socket, driven by a Dispatch read source and, only while bytes wait, a write source.
///
/// Confinement: created, used and closed only on `loop.queue`. Lifetimes follow shared/DISPATCH.md: sources
/// are resumed before they are cancelled, the descriptor is closed only in the last cancel handler, and
/// `shutdown` runs at once on abort so the peer sees the close within microseconds.
/// Writes go straight to the kernel; only what the kernel does not take is copied into `pending`.
final class SocketChannel {
    /// The outcome of one `read()` into the loop's shared buffer.
    enum ReadOutcome {
        /// `count` bytes are at the start of `loop.readBuffer`, valid until the handler returns.
        case bytes(Int)
        case wouldBlock
        case endOfFile
        case failed(Int32)
    }

    /// The outcome of one `write`.
    enum WriteOutcome {
        case written
        case failed(Int32)
    }

    let fd: Int32
    let loop: EventLoop
    /// The owner; cleared when the channel closes so the cycle owner → channel → owner ends.
    var handler: SocketChannelHandler?

    private var readSource: DispatchSourceRead?
    private var readPaused = false
    private var writeSource: DispatchSourceWrite?
    private var writeArmed = false
    private var liveSources = 0
    private var connecting: Bool
    private var pending = PendingBytes()
    private var shutdownWriteWhenFlushed = false
    private(set) var isClosed = false

    /// Bytes queued because the kernel's send buffer was full.
    var pendingByteCount: Int { pending.count }

    /// Wraps `fd`. `connecting` means a non-blocking connect is in progress: reading starts once it succeeds.
    init(fd: Int32, loop: EventLoop, connecting: Bool = false) {
        self.fd = fd
        self.loop = loop
        self.connecting = connecting
    }

    /// Starts the sources. Call once, on the loop queue, after setting `handler`.
    func start() {
        if connecting {
            armWriteSource()
        } else {
            startReading()
        }
    }

    private func startReading() {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [self] in
            guard !isClosed else { return }
            handler?.channelReadable(self)
        }
        source.setCancelHandler { [self] in sourceCancelled() }
        liveSources += 1
        readSource = source
        source.activate()
    }

    /// Reads once into `loop.readBuffer`.
    func read() -> ReadOutcome {
        let count = Glibc.read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count)
        if count > 0 { return .bytes(count) }
        if count == 0 { return .endOfFile }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed(code)
    }

    /// Whether an idle connection is still usable: nothing to read, no FIN, no pending error. A `MSG_PEEK`
    /// that consumes nothing, so it also catches a close whose read event has not been handled yet.
    func isIdleAndOpen() -> Bool {
        guard !isClosed, !connecting else { return false }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// Asks the kernel to ACK what arrives next at once instead of delaying the ACK (`TCP_QUICKACK`, Linux; it
    /// lasts until the kernel's own logic turns delayed ACKs back on, so callers set it again after each read).
    ///
    /// Why: a backend that writes a response in several small writes without `TCP_NODELAY` holds each write
    /// after the first until the previous one is ACKed (Nagle), and a delayed ACK takes up to 40 ms. A fresh
    /// connection starts in quick-ACK mode, so this showed only on reused keep-alive connections: measured
    /// against Python's `http.server` (head and body written separately), 44 ms per response without it.
    func acknowledgeQuickly() {
        guard !isClosed else { return }
        Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, 1)
    }

    /// Stops read events (back-pressure). While paused, a close by the peer is noticed only after resuming.
    func pauseReading() {
        guard let source = readSource, !readPaused, !isClosed else { return }
        readPaused = true
        source.suspend()
    }

    /// Resumes read events after `pauseReading`.
    func resumeReading() {
        guard let source = readSource, readPaused, !isClosed else { return }
        readPaused = false
        source.resume()
    }

    /// Whether reading is paused.
    var isReadingPaused: Bool { readPaused }

    /// Writes `bytes`: straight to the kernel when nothing waits, else (and for what the kernel does not take)
    /// into `pending`, flushed when the socket turns writable.
    func write(_ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        guard !isClosed else { return .failed(EBADF) }
        guard !bytes.isEmpty else { return .written }
        if connecting || !pending.isEmpty {
            pending.append(bytes)
            return .written
        }
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                offset += sent
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                pending.append(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                armWriteSource()
                return .written
            }
            return .failed(code)
        }
        return .written
    }

    /// Writes `bytes` (an array convenience over `write(_:)`).
    func write(_ bytes: [UInt8]) -> WriteOutcome {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Closes the sending side (`shutdown(SHUT_WR)`, a FIN) once everything queued is flushed; reading goes on,
    /// so the owner can linger until the peer closes. `channelDrained` follows when the shutdown happened later.
    func shutdownWriteAfterFlush() {
        guard !isClosed else { return }
        if pending.isEmpty && !connecting {
            shutdown(fd, Int32(SHUT_WR))
        } else {
            shutdownWriteWhenFlushed = true
        }
    }

    /// Tears the socket down now: `shutdown(SHUT_RDWR)` so the peer sees it at once, then cancels the sources.
    func abort() {
        guard !isClosed else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close()
    }

    private func close() {
        isClosed = true
        handler = nil
        pending.removeAll()
        if liveSources == 0 {
            Glibc.close(fd)
            return
        }
        if let source = readSource {
            if readPaused { source.resume() }
            source.cancel()
        }
        if let source = writeSource {
            if !writeArmed { source.resume() }
            source.cancel()
        }
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 {
            readSource = nil
            writeSource = nil
            Glibc.close(fd)
        }
    }

    private func armWriteSource() {
        if let source = writeSource {
            if !writeArmed {
                writeArmed = true
                source.resume()
            }
            return
        }
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [self] in writable() }
        source.setCancelHandler { [self] in sourceCancelled() }
        liveSources += 1
        writeSource = source
        writeArmed = true
        source.activate()
    }

    private func disarmWriteSource() {
        guard let source = writeSource, writeArmed else { return }
        writeArmed = false
        source.suspend()
    }

    private func writable() {
        guard !isClosed else { return }
        if connecting {
            connecting = false
            let error = Socket.pendingError(fd)
            if error != 0 {
                disarmWriteSource()
                handler?.channelConnected(self, error: error)
                return
            }
            startReading()
            handler?.channelConnected(self, error: 0)
            guard !isClosed else { return }
        }
        while let chunk = pending.first {
            let sent = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                pending.consume(sent)
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return }
            let handler = self.handler
            abort()
            handler?.channelWriteFailed(self, error: code)
            return
        }
        disarmWriteSource()
        if shutdownWriteWhenFlushed {
            shutdownWriteWhenFlushed = false
            shutdown(fd, Int32(SHUT_WR))
        }
        handler?.channelDrained(self)
    }
}

/// Bytes waiting for a socket to turn writable: a queue of copied chunks.
struct PendingBytes {
    private var chunks: [[UInt8]] = []
    private var headOffset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The unsent part of the oldest chunk.
    var first: ArraySlice<UInt8>? {
        chunks.first.map { $0[headOffset...] }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        chunks.append(Array(bytes))
        count += bytes.count
    }

    /// Drops `sent` bytes from the front of the oldest chunk.
    mutating func consume(_ sent: Int) {
        headOffset += sent
        count -= sent
        if headOffset == chunks[0].count {
            chunks.removeFirst()
            headOffset = 0
        }
    }

    mutating func removeAll() {
        chunks = []
        headOffset = 0
        count = 0
    }
}
