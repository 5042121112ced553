import Glibc

/// One TLS connection (`SSL`) over a non-blocking socket, client side (the probe) or server side (a `tls`
/// listener's client): handshake, read, write, close_notify, each answering what the socket must wait for next.
/// Used on one thread only.
final class TLSSession {
    /// What a TLS call needs next, or how it ended.
    enum Step: Equatable {
        /// It completed, moving this many bytes (0 for the handshake).
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer closed: close_notify, or EOF without it.
        case closed
        /// The connection was reset (`ECONNRESET`).
        case reset
        case failed(String)
    }

    private let library: TLSLibrary
    private let ssl: OpaquePointer
    /// The server context this session was accepted with (nil on the client side), kept alive for its ALPN list
    /// and its server functions.
    private let serverContext: TLSServerContext?

    /// Wraps `ssl`, which it frees on deinit; made by `TLSClientContext.session(fd:host:isIPLiteral:)` (client
    /// side) or `TLSServerContext.session(fd:)` (server side, `serverContext` set).
    init(library: TLSLibrary, ssl: OpaquePointer, serverContext: TLSServerContext? = nil) {
        self.library = library
        self.ssl = ssl
        self.serverContext = serverContext
    }

    /// Advances the handshake (`SSL_connect`, or `SSL_accept` on the server side).
    func handshake() -> Step {
        library.errorClear()
        let result = serverContext.map { $0.functions.accept(ssl) } ?? library.connect(ssl)
        if result == 1 { return .done(0) }
        let step = classify(result)
        guard case .failed(let detail) = step else { return step == .closed ? .failed("the peer closed the connection during the handshake") : step }
        if let verifyResult = library.verifyResult, let describe = library.verifyErrorString,
           case let code = verifyResult(ssl), code != 0, let text = describe(code) {
            return .failed("\(detail) (\(String(cString: text)))")
        }
        return step
    }

    /// Reads decrypted bytes into `buffer` (`SSL_read`).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Step {
        library.errorClear()
        let result = library.read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return result > 0 ? .done(Int(result)) : classify(result)
    }

    /// Writes `bytes` (`SSL_write`); on `wantRead`/`wantWrite`, call again with the same bytes.
    func write(_ bytes: UnsafeRawBufferPointer) -> Step {
        library.errorClear()
        let result = library.write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        return result > 0 ? .done(Int(result)) : classify(result)
    }

    /// Sends close_notify (`SSL_shutdown`), best-effort: once, without waiting for the peer's (server side only).
    func sendCloseNotify() {
        guard let functions = serverContext?.functions else { return }
        library.errorClear()
        _ = functions.shutdown(ssl)
        library.errorClear()
    }

    /// Maps a failed call's `SSL_get_error` (and errno for `SSL_ERROR_SYSCALL`) to a step.
    private func classify(_ result: Int32) -> Step {
        let code = errno
        switch library.getError(ssl, result) {
        case TLSLibrary.errorWantRead: return .wantRead
        case TLSLibrary.errorWantWrite: return .wantWrite
        case TLSLibrary.errorZeroReturn: return .closed
        case TLSLibrary.errorSyscall:
            let detail = library.drainErrors()
            if code == ECONNRESET { return .reset }
            if code == 0 || result == 0 { return .closed }
            return .failed(detail.isEmpty ? SocketError.message(errno: code) : detail)
        default:
            let detail = library.drainErrors()
            if detail.contains("unexpected eof") { return .closed }
            return .failed(detail.isEmpty ? "TLS error" : detail)
        }
    }

    deinit { library.free(ssl) }
}
