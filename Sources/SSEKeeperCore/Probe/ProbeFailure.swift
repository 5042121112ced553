/// Why a probe run could not measure anything: printed on stderr (or as a JSON error object), exit status 1.
public struct ProbeFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, also the `error_kind` of the JSON error object.
    public enum Kind: String, Sendable, Equatable {
        /// Name resolution, connection refused, connect timeout, or a connection closed before any response.
        case unreachable
        /// The TLS library is missing, or the handshake or certificate verification failed.
        case tls
        /// A 3xx/4xx answer, or an event stream that does not start with `probe-start`.
        case notProbeEndpoint = "not_probe_endpoint"
        /// A 200 that is not `text/event-stream`.
        case notEventStream = "not_event_stream"
        /// An error status that is not an idle cut (it came at once, or after the stream should have ended).
        case httpError = "http_error"
        /// No response within the response timeout.
        case noResponse = "no_response"
        /// Broken HTTP or SSE framing.
        case protocolError = "protocol"
    }

    /// The kind of failure.
    public var kind: Kind
    /// A sentence for a person, naming the URL.
    public var message: String

    /// Creates a failure.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
