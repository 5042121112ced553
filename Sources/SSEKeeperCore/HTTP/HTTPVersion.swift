/// An HTTP protocol version as it appears in a start line, `HTTP/<major>.<minor>` (RFC 9112 §2.3).
///
/// `HeadParser` only produces `1.0` and `1.1`: any other `1.x` is treated as `1.1`, as RFC 9112 §2.3 asks of
/// a recipient of a higher minor version, and every other major version is rejected with 505.
public struct HTTPVersion: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// The major version, `1` for every message this package parses.
    public var major: Int
    /// The minor version, `0` or `1`.
    public var minor: Int

    /// Creates the version `major.minor`; no range is enforced.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `HTTP/1.0` (RFC 1945): no persistent connections unless `Connection: keep-alive`, no chunked coding.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// `HTTP/1.1` (RFC 9112).
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    /// `HTTP/2` (RFC 9113): never on the wire in this form; it marks a request that came as an HTTP/2 stream
    /// (`HTTP2RequestMapping`), whose response body HTTP/2 frames itself (no chunked coding, no `Connection`).
    public static let http2 = HTTPVersion(major: 2, minor: 0)

    /// Orders by major, then minor version.
    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// The version as written on the wire, `HTTP/1.1`.
    public var description: String { "HTTP/\(major).\(minor)" }
}
