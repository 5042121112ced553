import CEpoll
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

/// One non-blocking socket, registered edge-triggered with its loop's `ReadinessPoller` for its whole life.
///
/// Reading: each report marks the socket readable until a `read()` sees it drained (`EAGAIN`, end of file, an
/// error, or a short read when no hang-up was reported: a TCP socket that returned less than asked for had nothing
/// more at that moment, and anything arriving later is reported again). After that, `read()` answers `.wouldBlock`
/// without a system call. An owner that returns while the socket may still hold bytes, and is not paused, is called
/// again after the current batch, so no edge is ever lost. Pausing only sets a flag; resuming calls the owner again
/// when bytes (or a close) arrived meanwhile. Once `read()` returned the end (end of file or an error), the owner
/// is not called to read again: later reports cannot bring anything more.
///
/// Writing: writes go straight to the kernel; only what it does not take is copied into `pending` and flushed when
/// the poller reports the socket writable. A plain socket is registered without write interest (`EPOLLOUT`) and
/// gets it, once, with the first write the kernel does not take whole: registered with it, every new socket
/// reported itself writable at once, one more `epoll_wait` round per new stream for nothing (a TLS socket keeps it
/// from the start, for handshakes and reads that must send).
///
/// Connecting: `start` asks whether the connect already succeeded (`getpeername`; on loopback it has by then) and
/// then tells the owner after the current batch, without waiting for a writable report and `SO_ERROR`; otherwise
/// the socket registers with write interest and the report ends the connect, as for any remote server.
///
/// TLS (a client of a `tls` listener): with a `TLSSession`, `read()` runs the handshake, then decrypts with
/// `SSL_read` until it wants more from the socket (a record may hold more than one read takes, so the channel stays
/// readable until then); `write` encrypts with `SSL_write`, and what cannot be sent waits in `pending`, retried
/// from the same bytes as OpenSSL requires; a handshake or read that must send waits for a writable report.
/// Library errors end reading with `EPROTO`. Plain channels pay one nil check per call for this.
///
/// Confinement: created, used and closed only on `loop.queue`. `abort` closes the descriptor at once (the peer sees
/// the close within microseconds), which also removes it from the epoll set.
///
/// Its stored properties are `@exclusivity(unchecked)`, as the loop's are (`ReadinessPoller`): they are used on
/// one queue, by loads, stores and mutations of core values (parsers, machines, buffers) that call back into
/// nothing, and handlers are called after a property is read, never inside an access to it. Keep it so: the runtime
/// does not check these for overlapping accesses (it cost about 75 instructions an access, ~130 per new stream).
final class SocketChannel: PollTarget {
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
    @exclusivity(unchecked) var handler: SocketChannelHandler?

    @exclusivity(unchecked) private var started = false
    /// Reading is delivered to the owner (false until a connect succeeds).
    @exclusivity(unchecked) private var reading = false
    @exclusivity(unchecked) private var readPaused = false
    /// Reported readable and not yet seen drained.
    @exclusivity(unchecked) private var readReady = false
    /// A hang-up or error was reported: read until end of file or the error, whatever the read sizes.
    @exclusivity(unchecked) private var hangupReported = false
    /// End of file or a read error, kept so later reads answer the same without a system call.
    @exclusivity(unchecked) private var readEnd: ReadOutcome?
    /// `epoll_ctl` refused the socket: reported as a failed connect or read.
    @exclusivity(unchecked) private var registrationError: Int32 = 0
    /// Bytes are pending and a writable report will flush them.
    @exclusivity(unchecked) private var writeArmed = false
    /// The socket is registered for writable reports (`EPOLLOUT`); see the type's summary.
    @exclusivity(unchecked) private var writeInterest = false
    /// `start` found the connect done already: the owner is told after the batch (`serveDeferredRead`).
    @exclusivity(unchecked) private var connectedAtStart = false
    @exclusivity(unchecked) private var connecting: Bool
    @exclusivity(unchecked) private var pending = PendingBytes()
    @exclusivity(unchecked) private var shutdownWriteWhenFlushed = false
    @exclusivity(unchecked) private(set) var isClosed = false
    /// The TLS layer of a `tls` listener's client; nil for plain sockets.
    let tls: TLSSession?
    /// The TLS handshake completed: application bytes may be written.
    @exclusivity(unchecked) private var tlsEstablished = false
    /// A TLS handshake or read must send first: the next writable report makes the channel readable again.
    @exclusivity(unchecked) private var tlsReadNeedsWritable = false

    /// Bytes queued because the kernel's send buffer was full.
    var pendingByteCount: Int { pending.count }
    /// The owner has turned on the kernel's dead-peer watch for this connection (keepalive and `TCP_USER_TIMEOUT`,
    /// see `ProxyStream.watchForDeadHost`): set once per connection, and kept when it goes back to a pool.
    @exclusivity(unchecked) var watchesForDeadPeer = false

    /// Wraps `fd`. `connecting` means a non-blocking connect is in progress: reading starts once it succeeds.
    /// `tls` is the server session of an accepted TLS client (see the type's summary).
    /// `tlsEstablished`: the session's handshake is done already (a connection handed over from another loop).
    init(fd: Int32, loop: EventLoop, connecting: Bool = false, tls: TLSSession? = nil, tlsEstablished: Bool = false) {
        self.fd = fd
        self.loop = loop
        self.connecting = connecting
        self.tls = tls
        self.tlsEstablished = tls != nil && tlsEstablished
    }

    /// Registers with the loop's poller. Call once, on the loop queue, after setting `handler`. An accepted socket
    /// is read once right after the current batch, without waiting for a report: its request is usually there.
    func start() {
        guard !started, !isClosed else { return }
        started = true
        if connecting { connectedAtStart = Socket.isConnected(fd) }
        writeInterest = tls != nil || (connecting && !connectedAtStart)
        registrationError = loop.poller.register(self, fd: fd, events: writeInterest ? Self.allEvents : Self.readEvents)
        if connecting {
            // A connect already done, or a refused registration (reported as a failed connect): after the batch.
            if registrationError != 0 || connectedAtStart { loop.poller.deferRead(self) }
            return
        }
        reading = true
        readReady = true
        loop.poller.deferRead(self)
    }

    /// Called by the poller with the reported `SSK_EPOLL*` bits.
    func pollEvents(_ events: UInt32) {
        guard !isClosed else { return }
        let hangup = events & UInt32(SSK_EPOLLERR | SSK_EPOLLHUP) != 0
        // Once the end was read, nothing more can be: a later report (a reset answering a write, a writable turn,
        // both carrying the read bits) must not call the owner again, where `read()` would repeat the end and
        // leave the socket "readable", so an owner that keeps the channel would be called without end.
        if readEnd == nil, hangup || events & UInt32(SSK_EPOLLIN | SSK_EPOLLRDHUP) != 0 {
            readReady = true
            if hangup || events & UInt32(SSK_EPOLLRDHUP) != 0 { hangupReported = true }
        }
        let writable = hangup || events & UInt32(SSK_EPOLLOUT) != 0
        if tls != nil {
            if tlsReadNeedsWritable && writable && readEnd == nil {
                tlsReadNeedsWritable = false
                readReady = true
            }
            // An SSL_write that wanted to read (a key update) is retried on any report.
            if writeArmed && events != 0 { flushPending() }
            guard !isClosed, readReady else { return }
            deliverReadable()
            return
        }
        if connecting {
            guard writable else { return }
            finishConnect(error: Socket.pendingError(fd))
        } else if writeArmed && writable {
            flushPending()
        }
        guard !isClosed, readReady else { return }
        deliverReadable()
    }

    /// Called by the poller after a batch for a channel that asked to be read again.
    func serveDeferredRead() {
        guard !isClosed else { return }
        if registrationError != 0 {
            if connecting {
                finishConnect(error: registrationError)
                return
            }
            readEnd = .failed(registrationError)
        }
        if connecting {
            if connectedAtStart { finishConnect(error: 0) }
            return
        }
        deliverReadable()
    }

    /// Epoll interest without and with writable reports (both edge-triggered, with the peer's half-close).
    private static let readEvents = UInt32(SSK_EPOLLIN | SSK_EPOLLRDHUP) | UInt32(truncatingIfNeeded: SSK_EPOLLET)
    private static let allEvents = readEvents | UInt32(SSK_EPOLLOUT)

    /// Bytes wait in `pending` for a writable report: adds write interest when the socket has none yet (edge-
    /// triggered, the change itself reports the socket when it is writable by then, so no edge is lost). Returns
    /// 0, or the errno of a refused change (the caller fails the write: nothing would ever flush it).
    private func armWrite() -> Int32 {
        writeArmed = true
        guard !writeInterest else { return 0 }
        writeInterest = true
        return loop.poller.modify(fd: fd, events: Self.allEvents)
    }

    /// Tells the owner the socket is readable, again while it leaves bytes unread (a few times, then after the
    /// next batch, so one busy socket cannot starve the others).
    private func deliverReadable() {
        var rounds = 0
        while reading, !readPaused, readReady, !isClosed, let handler {
            if rounds == 4 {
                loop.poller.deferRead(self)
                return
            }
            rounds += 1
            handler.channelReadable(self)
        }
    }

    /// How `readAvailable` stopped reading a client: the peer closed, or the socket failed.
    enum ClientReadEnd {
        case closed
        case failed(Int32)

        /// The reason for the log: `client closed the connection`, `client connection failed: ...`.
        var reason: String {
            switch self {
            case .closed: return "client closed the connection"
            case .failed(let code): return "client connection failed: \(SocketError.message(errno: code))"
            }
        }

        /// The errno of a failure, 0 for a close.
        var errno: Int32 {
            if case .failed(let code) = self { return code }
            return 0
        }
    }

    /// Reads what the socket has while `keepReading()` holds and reading is not paused, handing each read to
    /// `bytes` (valid during the call); stops at a short read or when nothing waits (nil), or at the peer's end.
    func readAvailable(while keepReading: () -> Bool, _ bytes: (UnsafeRawBufferPointer) -> Void) -> ClientReadEnd? {
        while keepReading() && !isReadingPaused {
            switch read() {
            case .bytes(let count):
                bytes(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
                if count < loop.readBuffer.count { return nil }
            case .wouldBlock:
                return nil
            case .endOfFile:
                return .closed
            case .failed(let code):
                return .failed(code)
            }
        }
        return nil
    }

    /// Reads once into `loop.readBuffer`.
    func read() -> ReadOutcome {
        if let readEnd { return readEnd }
        guard readReady else { return .wouldBlock }
        if let tls { return readTLS(tls) }
        let count = Glibc.read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count)
        if count > 0 {
            if count < loop.readBuffer.count && !hangupReported { readReady = false }
            return .bytes(count)
        }
        if count == 0 {
            readReady = false
            readEnd = .endOfFile
            return .endOfFile
        }
        let code = errno
        if code == EINTR { return .wouldBlock }
        readReady = false
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        readEnd = .failed(code)
        return .failed(code)
    }

    /// `read()` through TLS: the handshake first, then one `SSL_read`.
    private func readTLS(_ tls: TLSSession) -> ReadOutcome {
        if !tlsEstablished {
            let step = tls.handshake()
            guard case .done = step else { return tlsReadStopped(step) }
            tlsEstablished = true
            if !pending.isEmpty {
                flushPending()
                if isClosed { return .failed(EPIPE) }
            }
        }
        let step = tls.read(into: loop.readBuffer)
        if case .done(let count) = step { return .bytes(count) }
        return tlsReadStopped(step)
    }

    /// What a TLS handshake or read that did not deliver bytes means for `read()`.
    private func tlsReadStopped(_ step: TLSSession.Step) -> ReadOutcome {
        readReady = false
        let end: ReadOutcome
        switch step {
        case .done, .wantRead: return .wouldBlock
        case .wantWrite:
            tlsReadNeedsWritable = true
            return .wouldBlock
        case .closed: end = .endOfFile
        case .reset: end = .failed(ECONNRESET)
        case .failed: end = .failed(EPROTO)
        }
        readEnd = end
        return end
    }

    /// Whether an idle connection is still usable: nothing to read, no FIN, no pending error. A `MSG_PEEK`
    /// that consumes nothing, so it also catches a close whose report has not been handled yet.
    func isIdleAndOpen() -> Bool {
        guard !isClosed, !connecting, readEnd == nil else { return false }
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

    /// Stops delivering reads (back-pressure): the kernel's receive buffer fills and TCP slows the peer down.
    /// While paused, a close by the peer is noticed only after resuming.
    func pauseReading() {
        guard !isClosed else { return }
        readPaused = true
    }

    /// Resumes reads after `pauseReading`; the owner is called after the current batch when the socket was
    /// reported readable meanwhile (or never seen drained).
    func resumeReading() {
        guard readPaused, !isClosed else { return }
        readPaused = false
        if readReady && reading { loop.poller.deferRead(self) }
    }

    /// Whether reading is paused.
    var isReadingPaused: Bool { readPaused }

    /// Writes `bytes`: straight to the kernel when nothing waits, else (and for what the kernel does not take)
    /// into `pending`, flushed when the socket turns writable.
    func write(_ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        guard !isClosed else { return .failed(EBADF) }
        guard !bytes.isEmpty else { return .written }
        if let tls { return writeTLS(tls, bytes) }
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
                let refused = armWrite()
                return refused == 0 ? .written : .failed(refused)
            }
            return .failed(code)
        }
        return .written
    }

    /// `write` through TLS: queued until the handshake is done or while bytes wait, else `SSL_write` until the
    /// library wants the socket; the rest is queued and retried from the same bytes.
    private func writeTLS(_ tls: TLSSession, _ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        if !tlsEstablished || !pending.isEmpty {
            pending.append(bytes)
            return .written
        }
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch tls.write(rest) {
            case .done(let count): offset += count
            case .wantWrite, .wantRead:
                pending.append(rest)
                writeArmed = true
                return .written
            case .closed: return .failed(EPIPE)
            case .reset: return .failed(ECONNRESET)
            case .failed: return .failed(EPROTO)
            }
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
            shutdownWrite()
        } else {
            shutdownWriteWhenFlushed = true
        }
    }

    /// Gives the socket (and its TLS session, whose handshake is done) up without closing it, to be served by
    /// another loop: unregistered from this loop's poller, and this channel closed. Nil (and nothing changes) while
    /// bytes are queued, a connect is in progress, or a TLS handshake or a read that needs to write is unfinished.
    func releaseDescriptor() -> (fd: Int32, tls: TLSSessionTransfer?)? {
        guard !isClosed, pending.isEmpty, !connecting else { return nil }
        if tls != nil, !tlsEstablished || tlsReadNeedsWritable { return nil }
        isClosed = true
        handler = nil
        if started { loop.poller.unregister(fd: fd) }
        return (fd, tls.map(TLSSessionTransfer.init))
    }

    /// Tears the socket down now: closes it, which the peer sees at once (a FIN; a RST when bytes it sent were
    /// left unread). No `shutdown` first: the descriptor is never duplicated, so `close` is the socket's last
    /// reference and ends the connection itself, one system call fewer per socket. A TLS channel whose bytes were
    /// all sent says close_notify first (best-effort), so its peer sees a clean end; one cut with bytes still
    /// queued does not, so its peer sees the truncation.
    func abort() {
        guard !isClosed else { return }
        if let tls, tlsEstablished, pending.isEmpty, readEnd == nil { tls.sendCloseNotify() }
        isClosed = true
        handler = nil
        pending.removeAll()
        if started { loop.poller.unregister(fd: fd) }
        Glibc.close(fd)
    }

    /// A non-blocking connect finished (`error` 0) or failed: tell the owner; on success start reading and flush
    /// what was written meanwhile.
    private func finishConnect(error: Int32) {
        connecting = false
        if error != 0 {
            handler?.channelConnected(self, error: error)
            return
        }
        reading = true
        handler?.channelConnected(self, error: 0)
        // Flush what was queued meanwhile, then tell the owner the socket is drained (as before, also when nothing was).
        guard !isClosed else { return }
        flushPending()
    }

    /// `shutdown(SHUT_WR)`, after close_notify on a TLS channel.
    private func shutdownWrite() {
        if let tls, tlsEstablished { tls.sendCloseNotify() }
        shutdown(fd, Int32(SHUT_WR))
    }

    private func flushPending() {
        if let tls {
            flushPendingTLS(tls)
            return
        }
        while let chunk = pending.first {
            let sent = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                pending.consume(sent)
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                let refused = armWrite()
                if refused != 0 { failWrite(refused) }
                return
            }
            failWrite(code)
            return
        }
        pendingFlushed()
    }

    /// `flushPending` through TLS: the oldest chunk's unsent bytes, the same ones a wanting `SSL_write` was given.
    private func flushPendingTLS(_ tls: TLSSession) {
        guard tlsEstablished else { return }
        while let chunk = pending.first {
            switch chunk.withUnsafeBytes({ tls.write($0) }) {
            case .done(let count): pending.consume(count)
            case .wantWrite, .wantRead:
                writeArmed = true
                return
            case .closed: return failWrite(EPIPE)
            case .reset: return failWrite(ECONNRESET)
            case .failed: return failWrite(EPROTO)
            }
        }
        pendingFlushed()
    }

    /// Queued bytes could not be written: the channel is torn down and the owner told.
    private func failWrite(_ code: Int32) {
        let handler = self.handler
        abort()
        handler?.channelWriteFailed(self, error: code)
    }

    /// Everything queued was handed to the kernel: the pending half-close happens, the owner is told.
    private func pendingFlushed() {
        writeArmed = false
        if shutdownWriteWhenFlushed {
            shutdownWriteWhenFlushed = false
            shutdownWrite()
        }
        handler?.channelDrained(self)
    }
}
