/// The limits and window sizes of one server-side HTTP/2 connection (`HTTP2ConnectionMachine`), with defaults.
public struct HTTP2ConnectionConfiguration: Equatable, Sendable {
    /// Default `maxConcurrentStreams`: 128, the `http2_max_concurrent_streams` default (issue 17), and nginx's.
    public static let defaultMaxConcurrentStreams = 128
    /// Default `initialWindowSize`: 1 MiB per stream, so one busy request body does not wait on round trips.
    public static let defaultInitialWindowSize = 1 << 20
    /// Default `connectionWindowSize`: 4 MiB, raised from the protocol's 65,535 right after our SETTINGS.
    public static let defaultConnectionWindowSize = 4 << 20
    /// Default `settingsAckTimeoutNanos`: 10 s, many round trips even on a slow mobile link.
    public static let defaultSettingsAckTimeoutNanos: UInt64 = 10_000_000_000

    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce (RFC 9113 §5.1.2): one more is REFUSED_STREAM.
    public var maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise (RFC 9113 §6.5.2, §6.9.2): each stream's receive window.
    public var initialWindowSize: Int
    /// The connection's receive window (RFC 9113 §6.9.1), announced by a WINDOW_UPDATE on stream 0. Below the
    /// protocol's initial 65,535 it cannot be announced (no frame shrinks it): the client may use the 65,535,
    /// and WINDOW_UPDATEs bring it back only to this size.
    public var connectionWindowSize: Int
    /// The HPACK decoder's limits; `maxHeaderListSize` is advertised as SETTINGS_MAX_HEADER_LIST_SIZE.
    public var headerLimits: HPACKDecoder.Limits
    /// The frame parser's limits; `maxFrameSize` is advertised as SETTINGS_MAX_FRAME_SIZE when not 16,384.
    public var frameLimits: HTTP2FrameLimits
    /// Budgets for PING, SETTINGS, RST_STREAM and empty DATA floods (RFC 9113 §10.5).
    public var floodBudgets: HTTP2FloodGuard.Budgets
    /// How long our SETTINGS may wait for its ACK, in nanoseconds, before the connection fails with
    /// SETTINGS_TIMEOUT (RFC 9113 §6.5.3).
    public var settingsAckTimeoutNanos: UInt64

    /// A configuration with the documented defaults unless given.
    /// - Precondition: windows in 1...2^31−1 (RFC 9113 §6.9.1), `maxConcurrentStreams` ≥ 0.
    public init(
        maxConcurrentStreams: Int = HTTP2ConnectionConfiguration.defaultMaxConcurrentStreams,
        initialWindowSize: Int = HTTP2ConnectionConfiguration.defaultInitialWindowSize,
        connectionWindowSize: Int = HTTP2ConnectionConfiguration.defaultConnectionWindowSize,
        headerLimits: HPACKDecoder.Limits = HPACKDecoder.Limits(),
        frameLimits: HTTP2FrameLimits = HTTP2FrameLimits(),
        floodBudgets: HTTP2FloodGuard.Budgets = HTTP2FloodGuard.Budgets(),
        settingsAckTimeoutNanos: UInt64 = HTTP2ConnectionConfiguration.defaultSettingsAckTimeoutNanos
    ) {
        let maxWindow = Int(HTTP2Settings.maxWindowSize)
        precondition(maxConcurrentStreams >= 0, "negative http2_max_concurrent_streams")
        precondition((1...maxWindow).contains(initialWindowSize), "initial window out of range")
        precondition((1...maxWindow).contains(connectionWindowSize), "connection window out of range")
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.connectionWindowSize = connectionWindowSize
        self.headerLimits = headerLimits
        self.frameLimits = frameLimits
        self.floodBudgets = floodBudgets
        self.settingsAckTimeoutNanos = settingsAckTimeoutNanos
    }

    /// Our SETTINGS frame's pairs (RFC 9113 §3.4, §6.5.2): push off, the stream limit, the window, the header
    /// list size, and the frame size when not the default.
    public var settings: [HTTP2Setting] {
        var pairs = [
            HTTP2Setting(.enablePush, 0),
            HTTP2Setting(.maxConcurrentStreams, UInt32(clamping: maxConcurrentStreams)),
            HTTP2Setting(.initialWindowSize, UInt32(initialWindowSize)),
            HTTP2Setting(.maxHeaderListSize, UInt32(clamping: headerLimits.maxHeaderListSize)),
        ]
        if frameLimits.maxFrameSize != HTTP2FrameLimits.defaultMaxFrameSize {
            pairs.append(HTTP2Setting(.maxFrameSize, UInt32(clamping: frameLimits.maxFrameSize)))
        }
        return pairs
    }
}
