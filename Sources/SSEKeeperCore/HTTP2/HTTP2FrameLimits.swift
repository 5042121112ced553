/// The explicit limits `HTTP2FrameParser` enforces, with their defaults.
///
/// Memory: the parser holds O(1) state and never buffers; a caller that keeps unconsumed bytes needs at most
/// `9 + maxFrameSize` of them before a frame is complete or rejected (the length is checked as soon as the
/// 9-byte header is there), plus, if it collects field-block fragments for HPACK, at most `maxHeaderBlockBytes`.
public struct HTTP2FrameLimits: Hashable, Sendable {
    /// Default `maxFrameSize`: the protocol minimum 16,384 (RFC 9113 §4.2), which we advertise unless told
    /// otherwise.
    public static let defaultMaxFrameSize = 16_384
    /// Default `maxHeaderBlockBytes`: 32,768, twice the proxy's default `max_header_size` (16k). A compressed
    /// field block is normally smaller than the decoded list, so twice the list limit leaves the HPACK decoder
    /// room to answer an over-long list with 431 while a CONTINUATION flood is cut off here.
    public static let defaultMaxHeaderBlockBytes = 32_768
    /// Default `maxContinuationFrames`: 16. An honest client splits a field block at the peer's frame size, so
    /// the default block limit needs at most 2 CONTINUATIONs; empty or tiny ones only serve a flood
    /// (CVE-2024-27316 and its family were empty or 1-byte CONTINUATIONs that never ended).
    public static let defaultMaxContinuationFrames = 16
    /// Default `maxSettingsPerFrame`: 32, nghttp2's default (`nghttp2_option_set_max_settings`); RFC 9113
    /// defines six parameters.
    public static let defaultMaxSettingsPerFrame = 32

    /// The SETTINGS_MAX_FRAME_SIZE we advertised: a longer frame is FRAME_SIZE_ERROR (§4.2), 16,384...16,777,215.
    public var maxFrameSize: Int
    /// The most bytes of field-block fragments (HEADERS plus its CONTINUATIONs, without padding and priority
    /// fields) in one block; past it the connection fails with ENHANCE_YOUR_CALM.
    public var maxHeaderBlockBytes: Int
    /// The most CONTINUATION frames in one field block; past it the connection fails with ENHANCE_YOUR_CALM.
    public var maxContinuationFrames: Int
    /// The most pairs in one SETTINGS frame; past it the connection fails with ENHANCE_YOUR_CALM.
    public var maxSettingsPerFrame: Int

    /// Limits with the documented defaults unless given.
    public init(
        maxFrameSize: Int = HTTP2FrameLimits.defaultMaxFrameSize,
        maxHeaderBlockBytes: Int = HTTP2FrameLimits.defaultMaxHeaderBlockBytes,
        maxContinuationFrames: Int = HTTP2FrameLimits.defaultMaxContinuationFrames,
        maxSettingsPerFrame: Int = HTTP2FrameLimits.defaultMaxSettingsPerFrame
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxHeaderBlockBytes = maxHeaderBlockBytes
        self.maxContinuationFrames = maxContinuationFrames
        self.maxSettingsPerFrame = maxSettingsPerFrame
    }
}
