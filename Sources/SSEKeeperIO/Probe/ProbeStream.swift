import Glibc
import SSEKeeperCore

/// One probe stream over a non-blocking socket, plain or TLS: connect, handshake, send the request, read the
/// response with `ProbeResponseReader`. Driven by `ProbeRunner`'s poll loop (one thread): `pollEvents` says
/// what to wait for, `handle(now:)` runs when the socket is ready and says what happened.
final class ProbeStream {
    /// What a stream reports to the runner.
    enum Event {
        /// TCP connected (and, for https, the TLS handshake may begin).
        case connected
        /// The request was sent in full: the stream's age runs from now.
        case requestSent
        /// `probe-start` arrived with this silence, and the busy phase before it when it names one.
        case started(Duration, busy: Duration?)
        /// `probe-end` arrived.
        case ended
        /// Closed or reset before `probe-end`.
        case cut(ProbeCutKind)
        /// The response is not the probe's.
        case badResponse(ProbeResponseError)
        /// The TCP connect failed with this errno.
        case connectFailed(Int32)
        /// The TLS handshake failed.
        case tlsFailed(String)
        /// A read or write failed in a way that is not a cut.
        case ioFailed(String)
    }

    private enum Phase {
        case connecting
        case handshaking
        case sending
        case reading
        case finished
    }

    /// Bytes read per `read` call.
    static let readBufferBytes = 16 * 1024

    let id: Int
    let silence: Duration
    /// The busy phase asked for before the silence (zero for none).
    let busy: Duration
    let fd: Int32
    /// The address connected to, for messages.
    let address: SocketAddress
    /// When the connect (and TLS handshake) must be done.
    let connectDeadline: Duration
    /// When the last byte of a 200 response arrived, or the request was sent if none has.
    private(set) var lastActivity: Duration

    /// Wall-clock time when the request was sent, to check the server's time in `probe-start` against.
    private var requestSentWallMillis: Int64 = 0
    private var phase = Phase.connecting
    private let request: [UInt8]
    private var sent = 0
    private var reader = ProbeResponseReader()
    private let tlsContext: TLSClientContext?
    private let url: ProbeURL
    private var tls: TLSSession?
    /// A TLS call asked to wait for writability.
    private var tlsWantsWrite = false

    /// Starts connecting to `address`; throws the errno of a connect that fails at once.
    init(id: Int, silence: Duration, busy: Duration, url: ProbeURL, address: SocketAddress, tlsContext: TLSClientContext?,
         now: Duration, connectTimeout: Duration) throws(SocketError) {
        self.id = id
        self.silence = silence
        self.busy = busy
        self.url = url
        self.address = address
        self.tlsContext = tlsContext
        request = ProbeRequest.bytes(url: url, silence: silence, busy: busy)
        connectDeadline = now + connectTimeout
        lastActivity = now
        fd = try Socket.startConnect(to: address)
    }

    /// Whether the stream is still connecting or in its TLS handshake.
    var isConnecting: Bool { phase == .connecting || phase == .handshaking }

    /// The `poll` events to wait for.
    var pollEvents: Int16 {
        switch phase {
        case .connecting: return Int16(POLLOUT)
        case .handshaking, .sending, .reading:
            if tls != nil { return tlsWantsWrite ? Int16(POLLOUT) : Int16(POLLIN) }
            return phase == .sending ? Int16(POLLOUT) : Int16(POLLIN)
        case .finished: return 0
        }
    }

    /// Does what the socket is ready for; returns what happened, in order. After a terminal event (ended, cut,
    /// a failure) the stream does nothing more: close it.
    func handle(now: Duration) -> [Event] {
        var events: [Event] = []
        var progressing = true
        while progressing && phase != .finished {
            progressing = false
            switch phase {
            case .connecting:
                let code = Socket.pendingError(fd)
                guard code == 0 else { return finish(events + [.connectFailed(code)]) }
                events.append(.connected)
                if let tlsContext {
                    do {
                        tls = try tlsContext.session(fd: fd, host: url.host, isIPLiteral: url.isIPLiteral)
                    } catch {
                        return finish(events + [.tlsFailed(error.message)])
                    }
                    phase = .handshaking
                } else {
                    phase = .sending
                }
                progressing = true
            case .handshaking:
                switch tls!.handshake() {
                case .done:
                    tlsWantsWrite = false
                    phase = .sending
                    progressing = true
                case .wantRead: tlsWantsWrite = false
                case .wantWrite: tlsWantsWrite = true
                case .closed: return finish(events + [.tlsFailed("the peer closed the connection during the handshake")])
                case .reset: return finish(events + [.tlsFailed("the peer reset the connection during the handshake")])
                case .failed(let detail): return finish(events + [.tlsFailed(detail)])
                }
            case .sending:
                switch sendSome() {
                case .done(let count):
                    sent += count
                    if sent == request.count {
                        lastActivity = now
                        requestSentWallMillis = WallClock.milliseconds()
                        events.append(.requestSent)
                        phase = .reading
                    }
                    progressing = true
                case .wantRead: tlsWantsWrite = false
                case .wantWrite: tlsWantsWrite = true
                case .closed: return finish(events + [.cut(.fin)])
                case .reset: return finish(events + [.cut(.rst)])
                case .failed(let detail): return finish(events + [.ioFailed("sending the request failed: \(detail)")])
                }
            case .reading:
                return readAvailable(now: now, events: events)
            case .finished:
                break
            }
        }
        return events
    }

    /// Reads until the socket has nothing more, feeding the response reader.
    private func readAvailable(now: Duration, events: [Event]) -> [Event] {
        var events = events
        var buffer = [UInt8](repeating: 0, count: Self.readBufferBytes)
        while true {
            let step = buffer.withUnsafeMutableBytes { receive(into: $0) }
            switch step {
            case .done(let count):
                let found: [ProbeStreamEvent]
                do {
                    found = try buffer.withUnsafeBytes { bytes in
                        Result { () throws(ProbeResponseError) in try reader.feed(UnsafeRawBufferPointer(rebasing: bytes[..<count])) }
                    }.get()
                } catch {
                    return finish(events + [.badResponse(error)])
                }
                // Bytes of an error response's head do not count: its quiet time runs from the last byte before.
                if reader.hasHead { lastActivity = now }
                for event in found {
                    switch event {
                    case .started(let silence, let serverTime, let busy):
                        let backdate = ProbeSilenceStart.backdateMillis(
                            requestSentAt: requestSentWallMillis, arrivedAt: WallClock.milliseconds(), serverTime: serverTime)
                        lastActivity = now - .milliseconds(backdate)
                        events.append(.started(silence, busy: busy))
                    case .ended: return finish(events + [.ended])
                    }
                }
            case .wantRead:
                tlsWantsWrite = false
                return events
            case .wantWrite:
                tlsWantsWrite = true
                return events
            case .closed: return finish(events + [.cut(.fin)])
            case .reset: return finish(events + [.cut(.rst)])
            case .failed(let detail): return finish(events + [.ioFailed("reading the response failed: \(detail)")])
            }
        }
    }

    private func sendSome() -> TLSSession.Step {
        request.withUnsafeBytes { bytes in
            let rest = UnsafeRawBufferPointer(rebasing: bytes[sent...])
            if let tls { return tls.write(rest) }
            let count = send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .done(count) }
            return Self.classify(errno)
        }
    }

    private func receive(into buffer: UnsafeMutableRawBufferPointer) -> TLSSession.Step {
        if let tls { return tls.read(into: buffer) }
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        if count > 0 { return .done(count) }
        if count == 0 { return .closed }
        return Self.classify(errno)
    }

    private static func classify(_ code: Int32) -> TLSSession.Step {
        switch code {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wantRead
        case ECONNRESET, EPIPE: return .reset
        default: return .failed(SocketError.message(errno: code))
        }
    }

    private func finish(_ events: [Event]) -> [Event] {
        phase = .finished
        return events
    }

    /// Closes the socket (and frees the TLS session). Idempotent.
    func close() {
        tls = nil
        phase = .finished
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }

    private var closed = false

    deinit { close() }

}
