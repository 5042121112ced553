/// The stream settings one block sets explicitly; `nil` means "not set here, inherit".
struct StreamSettingsOverrides: Sendable, Equatable {
    /// `idle_timeout`, when set in this block.
    var idleTimeout: Duration?
    /// `heartbeat_fraction`, when set in this block.
    var heartbeatFraction: Double?
    /// `heartbeat_comment`, when set in this block.
    var heartbeatComment: String?
    /// `sse_retry`, when set in this block; `.some(nil)` is an explicit `sse_retry off;`.
    var sseRetry: Duration??
    /// `sse_unavailable`, when set in this block.
    var sseUnavailable: SSEUnavailableMode?
    /// `sse_upstream_error_event`, when set in this block.
    var sseUpstreamErrorEvent: Bool?
    /// `upstream_resume`, when set in this block.
    var upstreamResume: UpstreamResumeMode?
    /// `resume_window`, when set in this block.
    var resumeWindow: Duration?
    /// `resume_backoff`, when set in this block.
    var resumeBackoff: (min: Duration, max: Duration)?
    /// `client_send_timeout`, when set in this block; `.some(nil)` is an explicit `off`.
    var clientSendTimeout: Duration??
    /// `upstream_read_timeout`, when set in this block; `.some(nil)` is an explicit `off`.
    var upstreamReadTimeout: Duration??
    /// `sse_max_silence`, when set in this block; `.some(nil)` is an explicit `off`.
    var sseMaxSilence: Duration??
    /// `heartbeat_event`, when set in this block; `.some(nil)` is an explicit `off`.
    var heartbeatEvent: String??
    /// `heartbeat_data`, when set in this block (it has no `off`: leaving it out keeps the Unix time).
    var heartbeatData: String?
    /// `cors_allow_origin`, when set in this block.
    var corsAllowOrigin: CORSAllowedOrigins?
    /// `cors_allow_credentials`, when set in this block.
    var corsAllowCredentials: Bool?
    /// `client_resume_window`, when set in this block; `.some(nil)` is an explicit `off`.
    var clientResumeWindow: Duration??
    /// `client_resume_buffer`, when set in this block.
    var clientResumeBuffer: Int?
    /// `client_resume_match`, when set in this block; `.some([])` is an explicit `none`.
    var clientResumeMatch: [String]?
    /// `stream_max_duration`, when set in this block; `.some(nil)` is an explicit `off`.
    var streamMaxDuration: Duration??

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.idleTimeout == rhs.idleTimeout && lhs.heartbeatFraction == rhs.heartbeatFraction
            && lhs.heartbeatComment == rhs.heartbeatComment && lhs.sseRetry == rhs.sseRetry
            && lhs.sseUnavailable == rhs.sseUnavailable && lhs.sseUpstreamErrorEvent == rhs.sseUpstreamErrorEvent
            && lhs.upstreamResume == rhs.upstreamResume && lhs.resumeWindow == rhs.resumeWindow
            && lhs.resumeBackoff?.min == rhs.resumeBackoff?.min && lhs.resumeBackoff?.max == rhs.resumeBackoff?.max
            && lhs.clientSendTimeout == rhs.clientSendTimeout && lhs.upstreamReadTimeout == rhs.upstreamReadTimeout
            && lhs.sseMaxSilence == rhs.sseMaxSilence && lhs.heartbeatEvent == rhs.heartbeatEvent
            && lhs.heartbeatData == rhs.heartbeatData && lhs.corsAllowOrigin == rhs.corsAllowOrigin
            && lhs.corsAllowCredentials == rhs.corsAllowCredentials
            && lhs.clientResumeWindow == rhs.clientResumeWindow && lhs.clientResumeBuffer == rhs.clientResumeBuffer
            && lhs.clientResumeMatch == rhs.clientResumeMatch && lhs.streamMaxDuration == rhs.streamMaxDuration
    }

    /// `base` with every value set here replacing its counterpart.
    func applied(to base: StreamSettings) -> StreamSettings {
        var settings = base
        if let idleTimeout { settings.idleTimeout = idleTimeout }
        if let heartbeatFraction { settings.heartbeatFraction = heartbeatFraction }
        if let heartbeatComment { settings.heartbeatComment = heartbeatComment }
        if let sseRetry { settings.sseRetry = sseRetry }
        if let sseUnavailable { settings.sseUnavailable = sseUnavailable }
        if let sseUpstreamErrorEvent { settings.sseUpstreamErrorEvent = sseUpstreamErrorEvent }
        if let upstreamResume { settings.upstreamResume = upstreamResume }
        if let resumeWindow { settings.resumeWindow = resumeWindow }
        if let resumeBackoff {
            settings.resumeBackoffMin = resumeBackoff.min
            settings.resumeBackoffMax = resumeBackoff.max
        }
        if let clientSendTimeout { settings.clientSendTimeout = clientSendTimeout }
        if let upstreamReadTimeout { settings.upstreamReadTimeout = upstreamReadTimeout }
        if let sseMaxSilence { settings.sseMaxSilence = sseMaxSilence }
        if let heartbeatEvent { settings.heartbeatEvent = heartbeatEvent }
        if let heartbeatData { settings.heartbeatData = heartbeatData }
        if let corsAllowOrigin { settings.corsAllowOrigin = corsAllowOrigin }
        if let corsAllowCredentials { settings.corsAllowCredentials = corsAllowCredentials }
        if let clientResumeWindow { settings.clientResumeWindow = clientResumeWindow }
        if let clientResumeBuffer { settings.clientResumeBuffer = clientResumeBuffer }
        if let clientResumeMatch { settings.clientResumeMatch = clientResumeMatch }
        if let streamMaxDuration { settings.streamMaxDuration = streamMaxDuration }
        return settings
    }
}
