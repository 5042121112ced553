/// Why `HTTP2ConnectionMachine` ended a connection, for logs and metrics.
public enum HTTP2CloseReason: Hashable, Sendable, CustomStringConvertible {
    /// The bytes do not start with the client connection preface (RFC 9113 §3.4): on an `h2c` listener the
    /// shell hands `received` (every byte read so far) to HTTP/1.1; elsewhere it closes.
    case notHTTP2(received: [UInt8])
    /// A connection error (RFC 9113 §5.4.1): we sent GOAWAY with `code`; `detail` says which rule broke.
    case connectionError(HTTP2ErrorCode, detail: String)
    /// A graceful shutdown finished (RFC 9113 §6.8): GOAWAY was sent or received and no stream is left.
    case drained

    /// `connection error PROTOCOL_ERROR: ...`, `drained`, `not HTTP/2`.
    public var description: String {
        switch self {
        case .notHTTP2(let received): return "not HTTP/2 (\(received.count) bytes)"
        case .connectionError(let code, let detail): return "connection error \(code): \(detail)"
        case .drained: return "drained"
        }
    }
}
