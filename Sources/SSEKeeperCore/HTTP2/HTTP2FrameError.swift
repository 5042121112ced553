/// Why received bytes break the HTTP/2 framing rules, with the error code to answer with and its scope.
///
/// RFC 9113 §5.4 distinguishes a connection error (§5.4.1: send GOAWAY with `code`, then close) from a stream
/// error (§5.4.2: send RST_STREAM with `code` on that stream; the connection goes on). `HTTP2FrameParser`
/// throws connection errors and returns stream errors as `HTTP2FrameParseResult.streamError`, since parsing
/// continues after them. `rule` says which rule was broken, for logs and tests.
public struct HTTP2FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Whether the error ends the connection or only one stream (RFC 9113 §5.4).
    public enum Scope: Hashable, Sendable {
        /// §5.4.1: GOAWAY with the code, then close the connection.
        case connection
        /// §5.4.2: RST_STREAM with the code on this stream.
        case stream(UInt32)
    }

    /// Which framing rule was broken.
    public enum Rule: Hashable, Sendable {
        /// §4.2: the frame's length exceeds the SETTINGS_MAX_FRAME_SIZE we advertised.
        case frameTooLarge(type: UInt8, length: Int, maxFrameSize: Int)
        /// §6: the payload length is wrong for the type (PING ≠ 8, SETTINGS not a multiple of 6, an ACK with a
        /// payload, RST_STREAM ≠ 4, PRIORITY ≠ 5, WINDOW_UPDATE ≠ 4, GOAWAY < 8, or too short for its Pad Length
        /// and priority fields).
        case invalidLength(HTTP2FrameType, length: Int)
        /// §6: this type belongs to the connection (stream 0) but named a stream.
        case streamMustBeZero(HTTP2FrameType, stream: UInt32)
        /// §6: this type belongs to a stream but named stream 0.
        case streamMustNotBeZero(HTTP2FrameType)
        /// §6.1, §6.2: the Pad Length leaves no room for the rest of the payload.
        case paddingTooLong(HTTP2FrameType, padLength: Int, payloadLength: Int)
        /// §6.9: a WINDOW_UPDATE with an increment of 0.
        case zeroWindowIncrement(stream: UInt32)
        /// §5.3.1: a stream made dependent on itself.
        case selfDependency(stream: UInt32)
        /// §6.5.2: a SETTINGS value out of range.
        case invalidSetting(HTTP2Setting)
        /// More pairs in one SETTINGS frame than `HTTP2FrameLimits.maxSettingsPerFrame` (a flood, §10.5).
        case tooManySettings(count: Int, limit: Int)
        /// §8.4: a client sent PUSH_PROMISE (only servers push).
        case pushPromiseReceived(stream: UInt32)
        /// §3.4: the client preface must be followed by a SETTINGS frame.
        case firstFrameNotSettings(type: UInt8)
        /// §6.10: a field block is open on `stream`; only a CONTINUATION of that stream may come next.
        case expectedContinuation(stream: UInt32, receivedType: UInt8, receivedStream: UInt32)
        /// §6.10: a CONTINUATION that does not continue an open field block.
        case unexpectedContinuation(stream: UInt32)
        /// The field block's fragments passed `HTTP2FrameLimits.maxHeaderBlockBytes` (CONTINUATION flood).
        case headerBlockTooLarge(bytes: Int, limit: Int)
        /// The field block took more CONTINUATION frames than `HTTP2FrameLimits.maxContinuationFrames`.
        case tooManyContinuations(count: Int, limit: Int)
    }

    /// Connection or stream (§5.4).
    public let scope: Scope
    /// The code for GOAWAY or RST_STREAM (§7).
    public let code: HTTP2ErrorCode
    /// Which rule was broken.
    public let rule: Rule

    /// An error of `scope` answered with `code` because of `rule`.
    public init(_ scope: Scope, _ code: HTTP2ErrorCode, _ rule: Rule) {
        self.scope = scope
        self.code = code
        self.rule = rule
    }

    /// `HTTP/2 connection error PROTOCOL_ERROR: streamMustNotBeZero(DATA)`.
    public var description: String {
        switch scope {
        case .connection: return "HTTP/2 connection error \(code): \(rule)"
        case .stream(let stream): return "HTTP/2 stream \(stream) error \(code): \(rule)"
        }
    }
}
