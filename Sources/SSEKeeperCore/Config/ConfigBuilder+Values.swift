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
    /// `http2_max_concurrent_streams` accepts 1...10,000: 0 would refuse every request (that is `http2 off`), and
    /// each open stream holds an upstream connection and its buffers, so one client connection may hold no more of
    /// them than `max_connections` allows clients by default.
    static let http2MaxConcurrentStreamsRange = 1...10_000
    /// `heartbeat_comment` holds at most 200 bytes of UTF-8.
    static let maxHeartbeatCommentBytes = 200

    /// The whole number `argument` holds when it is well formed and within `range`; otherwise reports and `nil`.
    /// `alternative` extends the hint for a directive that also takes a word (`", or off"`).
    mutating func count(_ argument: ConfigArgument, in range: ClosedRange<Int>, alternative: String = "") -> Int? {
        let token = argument.token
        guard let value = ConfigValue.parseInteger(Substring(argument.text)).flatMap(Int.init(exactly:)) else {
            report("invalid number \(token.quotedText) (use digits only, e.g. 10000\(alternative))", at: token)
            return nil
        }
        guard range.contains(value) else {
            report("\(argument.name) must be between \(range.lowerBound) and \(range.upperBound), got \(argument.text)",
                   at: token)
            return nil
        }
        return value
    }

    /// The duration `argument` holds when it is well formed and within `range` (`durationRange` unless a directive
    /// needs a narrower one); otherwise reports "NAME must be between LOW and HIGH" and `nil`.
    mutating func duration(
        _ argument: ConfigArgument, in range: ClosedRange<Duration> = durationRange, alternative: String = ""
    ) -> Duration? {
        let token = argument.token
        guard let value = ConfigValue.parseDuration(argument.text) else {
            report("invalid duration \(token.quotedText) (use 250ms, 15s, 2m, 1h\(alternative))", at: token)
            return nil
        }
        guard range.contains(value) else {
            let bounds = "\(ConfigValue.formatDuration(range.lowerBound)) and \(ConfigValue.formatDuration(range.upperBound))"
            report("\(argument.name) must be between \(bounds), got \(argument.text)", at: token)
            return nil
        }
        return value
    }

    /// `DURATION|off`: `.some(nil)` for `off`, `.some(value)` for a duration within `range`; `nil` after reporting a
    /// bad value (the hint then mentions `off`).
    mutating func durationOrOff(_ argument: ConfigArgument, in range: ClosedRange<Duration> = durationRange) -> Duration?? {
        if argument.text == "off" { return .some(nil) }
        guard let value = duration(argument, in: range, alternative: ", or off") else { return nil }
        return .some(value)
    }

    /// The size `argument` holds when it is well formed and within `range`; otherwise reports and `nil`.
    mutating func size(_ argument: ConfigArgument, in range: ClosedRange<Int>) -> Int? {
        let token = argument.token
        guard let value = ConfigValue.parseSize(argument.text) else {
            report("invalid size \(token.quotedText) (use 512, 16k, 1m)", at: token)
            return nil
        }
        guard range.contains(value) else {
            let bounds = "\(ConfigValue.formatSize(range.lowerBound)) and \(ConfigValue.formatSize(range.upperBound))"
            report("\(argument.name) must be between \(bounds), got \(argument.text)", at: token)
            return nil
        }
        return value
    }

    /// The value of the keyword `argument` holds, one of `choices` (matched exactly); otherwise reports
    /// "NAME must be a, b or c, got ..." listing the keywords in the order given, and `nil`.
    mutating func choice<Value>(_ argument: ConfigArgument, _ choices: KeyValuePairs<String, Value>) -> Value? {
        if let match = choices.first(where: { $0.key == argument.text }) { return match.value }
        let keys = choices.map(\.key)
        let list = keys.count > 1 ? keys.dropLast().joined(separator: ", ") + " or " + keys[keys.count - 1] : keys.joined()
        report("\(argument.name) must be \(list), got \(argument.token.quotedText)", at: argument.token)
        return nil
    }

    /// `heartbeat_fraction`: a plain decimal strictly between 0 and 1; otherwise reports and `nil`.
    mutating func heartbeatFraction(_ argument: ConfigArgument) -> Double? {
        guard let value = ConfigValue.parseDecimal(argument.text) else {
            report("invalid heartbeat_fraction \(argument.token.quotedText) (use a decimal such as 0.33)", at: argument.token)
            return nil
        }
        guard value > 0, value < 1 else {
            report("heartbeat_fraction must be between 0 and 1 (exclusive), got \(argument.text)", at: argument.token)
            return nil
        }
        return value
    }

    /// `resume_backoff MIN..MAX`: two durations within `durationRange`, the first not larger; otherwise reports
    /// and `nil`.
    mutating func resumeBackoff(_ argument: ConfigArgument) -> (min: Duration, max: Duration)? {
        let (text, token) = (argument.text, argument.token)
        let parts = text.split(separator: "..", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let low = ConfigValue.parseDuration(parts[0]),
              let high = ConfigValue.parseDuration(parts[1]) else {
            report("invalid resume_backoff \(token.quotedText) (use MIN..MAX, e.g. 100ms..5s)", at: token)
            return nil
        }
        guard Self.durationRange.contains(low), Self.durationRange.contains(high) else {
            report("resume_backoff bounds must be between 1ms and 24h, got \(text)", at: token)
            return nil
        }
        guard low <= high else {
            report("resume_backoff minimum \(parts[0]) is larger than its maximum \(parts[1])", at: token)
            return nil
        }
        return (low, high)
    }

    /// `probe_path PATH|off;`: an exact path like a route prefix, without `?`; `off` turns the probe off.
    mutating func applyProbePath(_ argument: ConfigArgument) {
        let text = argument.text
        if text == "off" {
            probe.path = nil
        } else if Self.prefixProblem(text) != nil || text.contains("?") {
            report("probe_path must be a path starting with \"/\" without spaces, \"?\" or \"#\", got \(argument.token.quotedText)",
                   at: argument.token)
        } else {
            probe.path = text
        }
    }

    /// Why `text` cannot be a heartbeat comment, or `nil`: it must be 1-200 bytes of printable text (no C0 or C1
    /// control character, so no CR, LF or NUL) to fit on one `: TEXT` line of an SSE stream.
    static func commentProblem(_ text: String) -> String? {
        lineTextProblem(text, name: "heartbeat_comment", maxBytes: maxHeartbeatCommentBytes, allowsEmpty: false)
    }

    /// Why `text` cannot be the value of one line ssekeeper writes into an SSE stream (a comment, an `event:` or
    /// `data:` field), or `nil`: at most `maxBytes` bytes of UTF-8, empty only when `allowsEmpty`, and no C0 or C1
    /// control character, since a CR or LF would end the line early (WHATWG HTML, "Server-sent events", §9.2.5:
    /// the stream's lines end at CR, LF or CRLF) and the others are invisible in logs and dev tools.
    static func lineTextProblem(_ text: String, name: String, maxBytes: Int, allowsEmpty: Bool) -> String? {
        if text.isEmpty, !allowsEmpty { return "\(name) must not be empty" }
        if text.utf8.count > maxBytes {
            return "\(name) must be at most \(maxBytes) bytes, got \(text.utf8.count)"
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "\(name) must not contain control characters such as CR, LF, NUL or tab"
        }
        return nil
    }
}
