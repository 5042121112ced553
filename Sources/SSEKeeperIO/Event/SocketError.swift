import Glibc
import SSEKeeperCore

/// A failed socket operation, with the operation and the errno it failed with.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    /// What was attempted, e.g. `bind 127.0.0.1:8080`.
    public var operation: String
    /// The errno value, when the failure came from a system call.
    public var errnoCode: Int32?
    /// A human-readable reason.
    public var message: String

    init(operation: String, errno code: Int32) {
        self.operation = operation
        self.errnoCode = code
        self.message = Self.message(errno: code)
    }

    init(operation: String, message: String) {
        self.operation = operation
        self.errnoCode = nil
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }

    /// The C library's text for the errno value `code` (`strerror`): `Connection refused`. The one place libc
    /// error text is read, so every message about a failed system call words it the same way.
    public static func message(errno code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The resolver's text for a `getaddrinfo` status (`gai_strerror`): `Name or service not known`.
    public static func message(resolverStatus status: Int32) -> String {
        String(cString: gai_strerror(status))
    }
}

extension SocketError {
    /// Whether an errno says the peer stopped acknowledging (`ETIMEDOUT`: `TCP_USER_TIMEOUT` or keepalive gave up).
    static func isPeerTimeout(errno code: Int32) -> Bool {
        code == ETIMEDOUT
    }
}

extension ConnectErrorKind {
    /// The kind of a failed connect's errno (nil: no errno, e.g. a name that did not resolve).
    init(errno code: Int32?) {
        switch code {
        case ECONNREFUSED?: self = .refused
        case ETIMEDOUT?: self = .timeout
        case ECONNRESET?, ECONNABORTED?: self = .reset
        case EHOSTUNREACH?, ENETUNREACH?, EHOSTDOWN?, ENETDOWN?: self = .unreachable
        case EMFILE?, ENFILE?, ENOBUFS?, ENOMEM?, EADDRNOTAVAIL?: self = .resources
        default: self = .other
        }
    }
}
