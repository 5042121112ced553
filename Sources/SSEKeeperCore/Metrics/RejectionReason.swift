/// Why ssekeeper refused a request or a connection itself, as the `reason` label of
/// `ssekeeper_rejected_requests_total`.
public enum RejectionReason: Int, Sendable, CaseIterable {
    /// A malformed request head or chunked body (400).
    case badRequest
    /// A method the endpoint does not serve (405, the probe endpoint).
    case methodNotAllowed
    /// The request head (or a checked chunked body) did not arrive within `client_header_timeout` (408).
    case timeout
    /// A request line, head or body over its limit (413, 414, 431).
    case tooLarge
    /// A transfer coding ssekeeper does not implement (501).
    case notImplemented
    /// An HTTP version other than 1.0 and 1.1 (505).
    case unsupportedVersion
    /// A connection over `max_connections`, answered 503 at once.
    case maxConnections
    /// A connection over `max_connections_per_ip` for its client address, answered 503 at once.
    case maxConnectionsPerClient
    /// Any other status ssekeeper answered a request with by itself.
    case other

    /// The label value: `bad_request`, `too_large`, `max_connections`, ...
    public var label: String {
        switch self {
        case .badRequest: "bad_request"
        case .methodNotAllowed: "method_not_allowed"
        case .timeout: "timeout"
        case .tooLarge: "too_large"
        case .notImplemented: "not_implemented"
        case .unsupportedVersion: "unsupported_version"
        case .maxConnections: "max_connections"
        case .maxConnectionsPerClient: "max_connections_per_ip"
        case .other: "other"
        }
    }

    /// The reason for a request answered with `status` by ssekeeper itself (RFC 9110 §15 status meanings).
    public init(status: Int) {
        switch status {
        case 400: self = .badRequest
        case 405: self = .methodNotAllowed
        case 408: self = .timeout
        case 413, 414, 431: self = .tooLarge
        case 501: self = .notImplemented
        case 505: self = .unsupportedVersion
        default: self = .other
        }
    }
}

/// Why a connect to an upstream server failed, as the `kind` label of `ssekeeper_upstream_connect_errors_total`.
/// The shell maps errno values to these (the core knows no errno).
public enum ConnectErrorKind: Int, Sendable, CaseIterable {
    /// Nothing listens there (`ECONNREFUSED`).
    case refused
    /// `upstream_connect_timeout` passed, or the kernel gave up (`ETIMEDOUT`).
    case timeout
    /// The connection was reset while connecting (`ECONNRESET`).
    case reset
    /// No route to the host or network (`EHOSTUNREACH`, `ENETUNREACH`).
    case unreachable
    /// The process or system ran out of descriptors or buffers (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`).
    case resources
    /// Anything else.
    case other

    /// The label value: `refused`, `timeout`, `reset`, `unreachable`, `resources`, `other`.
    public var label: String {
        switch self {
        case .refused: "refused"
        case .timeout: "timeout"
        case .reset: "reset"
        case .unreachable: "unreachable"
        case .resources: "resources"
        case .other: "other"
        }
    }
}
