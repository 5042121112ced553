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

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.idleTimeout == rhs.idleTimeout && lhs.heartbeatFraction == rhs.heartbeatFraction
            && lhs.heartbeatComment == rhs.heartbeatComment && lhs.sseRetry == rhs.sseRetry
            && lhs.sseUnavailable == rhs.sseUnavailable && lhs.sseUpstreamErrorEvent == rhs.sseUpstreamErrorEvent
            && lhs.upstreamResume == rhs.upstreamResume && lhs.resumeWindow == rhs.resumeWindow
            && lhs.resumeBackoff?.min == rhs.resumeBackoff?.min && lhs.resumeBackoff?.max == rhs.resumeBackoff?.max
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
        return settings
    }
}

extension ConfigBuilder {
    /// Every duration directive accepts 1ms...24h: durations are whole milliseconds, so this is "more than zero",
    /// and nothing in a proxy should wait longer than a day.
    static let durationRange = Duration.milliseconds(1)...Duration.seconds(24 * 60 * 60)
    /// `max_connections` accepts 1...1,000,000.
    static let maxConnectionsRange = 1...1_000_000
    /// `max_header_size` accepts 1k...1m.
    static let maxHeaderBytesRange = 1024...1024 * 1024
    /// `max_buffer_size` accepts 4k...64m.
    static let maxBufferedBytesRange = 4 * 1024...64 * 1024 * 1024
    /// `max_body_size` accepts 1 byte...1 TiB (or `off`).
    static let maxBodyBytesRange = 1...(1 << 40)
    /// `heartbeat_comment` holds at most 200 bytes of UTF-8.
    static let maxHeartbeatCommentBytes = 200

    /// Applies a per-stream setting (`idle_timeout`, `heartbeat_fraction`, `heartbeat_comment`, `sse_retry`,
    /// `sse_unavailable`, `sse_upstream_error_event`, `upstream_resume`, `resume_window`, `resume_backoff`);
    /// false for other names.
    mutating func applyStreamSetting(
        _ name: String, _ token: ConfigToken, to overrides: inout StreamSettingsOverrides
    ) -> Bool {
        guard let text = token.text else { return true }
        switch name {
        case "idle_timeout":
            if let value = duration(name, token) { overrides.idleTimeout = value }
        case "heartbeat_fraction":
            guard let value = ConfigValue.parseDecimal(text) else {
                report("invalid heartbeat_fraction \(token.quotedText) (use a decimal such as 0.33)", at: token)
                break
            }
            guard value > 0, value < 1 else {
                report("heartbeat_fraction must be between 0 and 1 (exclusive), got \(text)", at: token)
                break
            }
            overrides.heartbeatFraction = value
        case "heartbeat_comment":
            if let problem = Self.commentProblem(text) {
                report(problem, at: token)
            } else {
                overrides.heartbeatComment = text
            }
        case "sse_unavailable":
            guard let value = SSEUnavailableMode(rawValue: text) else {
                report("sse_unavailable must be reconnect or status, got \(token.quotedText)", at: token)
                break
            }
            overrides.sseUnavailable = value
        case "sse_upstream_error_event":
            guard text == "on" || text == "off" else {
                report("sse_upstream_error_event must be on or off, got \(token.quotedText)", at: token)
                break
            }
            overrides.sseUpstreamErrorEvent = text == "on"
        case "upstream_resume":
            guard let value = UpstreamResumeMode(rawValue: text) else {
                report("upstream_resume must be off, on or always, got \(token.quotedText)", at: token)
                break
            }
            overrides.upstreamResume = value
        case "resume_window":
            if let value = duration(name, token) { overrides.resumeWindow = value }
        case "resume_backoff":
            let parts = text.split(separator: "..", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let low = ConfigValue.parseDuration(parts[0]),
                  let high = ConfigValue.parseDuration(parts[1]) else {
                report("invalid resume_backoff \(token.quotedText) (use MIN..MAX, e.g. 100ms..5s)", at: token)
                break
            }
            guard Self.durationRange.contains(low), Self.durationRange.contains(high) else {
                report("resume_backoff bounds must be between 1ms and 24h, got \(text)", at: token)
                break
            }
            guard low <= high else {
                report("resume_backoff minimum \(parts[0]) is larger than its maximum \(parts[1])", at: token)
                break
            }
            overrides.resumeBackoff = (low, high)
        case "sse_retry":
            if text == "off" {
                overrides.sseRetry = .some(nil)
            } else if let value = duration(name, token, alternative: ", or off") {
                overrides.sseRetry = value
            }
        default:
            return false
        }
        return true
    }

    /// Applies a top-level limit directive; the caller has matched its name against the directive table.
    mutating func applyLimit(_ name: String, _ token: ConfigToken) {
        switch name {
        case "client_header_timeout":
            if let value = duration(name, token) { limits.clientHeaderTimeout = value }
        case "upstream_connect_timeout":
            if let value = duration(name, token) { limits.upstreamConnectTimeout = value }
        case "upstream_header_timeout":
            if let value = duration(name, token) { limits.upstreamHeaderTimeout = value }
        case "keepalive_timeout":
            if let value = duration(name, token) { limits.keepaliveTimeout = value }
        case "max_connections":
            if let value = count(name, token, in: Self.maxConnectionsRange) { limits.maxConnections = value }
        case "max_connections_per_ip":
            if token.text == "off" {
                limits.maxConnectionsPerClient = nil
            } else if let value = count(name, token, in: Self.maxConnectionsRange, alternative: ", or off") {
                limits.maxConnectionsPerClient = value
            }
        case "drain_timeout":
            if let value = duration(name, token) { limits.drainTimeout = value }
        case "drain_retry":
            if let value = duration(name, token) { limits.drainRetry = value }
        case "max_header_size":
            if let value = size(name, token, in: Self.maxHeaderBytesRange) { limits.maxHeaderBytes = value }
        case "max_buffer_size":
            if let value = size(name, token, in: Self.maxBufferedBytesRange) { limits.maxBufferedBytes = value }
        case "probe_path":
            guard let text = token.text else { return }
            if text == "off" {
                probe.path = nil
            } else if Self.prefixProblem(text) != nil || text.contains("?") {
                report("probe_path must be a path starting with \"/\" without spaces, \"?\" or \"#\", got \(token.quotedText)", at: token)
            } else {
                probe.path = text
            }
        case "probe_max_silence":
            if let value = duration(name, token) { probe.maxSilence = value }
        case "max_body_size":
            if token.text == "off" {
                limits.maxBodyBytes = nil
            } else if let value = size(name, token, in: Self.maxBodyBytesRange) {
                limits.maxBodyBytes = value
            }
        default:
            assertionFailure("directive table and applyLimit disagree on \(name)")
        }
    }

    /// The whole number `token` holds when it is well formed and within `range`; otherwise reports and `nil`.
    mutating func count(_ name: String, _ token: ConfigToken, in range: ClosedRange<Int>, alternative: String = "") -> Int? {
        guard let text = token.text, let value = ConfigValue.parseInteger(Substring(text)).flatMap(Int.init(exactly:))
        else {
            report("invalid number \(token.quotedText) (use digits only, e.g. 10000\(alternative))", at: token)
            return nil
        }
        guard range.contains(value) else {
            report("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(text)", at: token)
            return nil
        }
        return value
    }

    /// The duration `token` holds when it is well formed and within `durationRange`; otherwise reports and `nil`.
    mutating func duration(_ name: String, _ token: ConfigToken, alternative: String = "") -> Duration? {
        guard let text = token.text, let value = ConfigValue.parseDuration(text) else {
            report("invalid duration \(token.quotedText) (use 250ms, 15s, 2m, 1h\(alternative))", at: token)
            return nil
        }
        guard Self.durationRange.contains(value) else {
            report("\(name) must be between 1ms and 24h, got \(token.text ?? "")", at: token)
            return nil
        }
        return value
    }

    /// The size `token` holds when it is well formed and within `range`; otherwise reports and `nil`.
    private mutating func size(_ name: String, _ token: ConfigToken, in range: ClosedRange<Int>) -> Int? {
        guard let text = token.text, let value = ConfigValue.parseSize(text) else {
            report("invalid size \(token.quotedText) (use 512, 16k, 1m)", at: token)
            return nil
        }
        guard range.contains(value) else {
            let bounds = "\(ConfigValue.formatSize(range.lowerBound)) and \(ConfigValue.formatSize(range.upperBound))"
            report("\(name) must be between \(bounds), got \(token.text ?? "")", at: token)
            return nil
        }
        return value
    }

    /// Why `text` cannot be a heartbeat comment, or `nil`: it must be 1-200 bytes of printable text (no C0 or C1
    /// control character, so no CR, LF or NUL) to fit on one `: TEXT` line of an SSE stream.
    static func commentProblem(_ text: String) -> String? {
        if text.isEmpty { return "heartbeat_comment must not be empty" }
        if text.utf8.count > maxHeartbeatCommentBytes {
            return "heartbeat_comment must be at most \(maxHeartbeatCommentBytes) bytes, got \(text.utf8.count)"
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "heartbeat_comment must not contain control characters such as CR, LF, NUL or tab"
        }
        return nil
    }
}
