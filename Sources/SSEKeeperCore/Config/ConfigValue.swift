/// Parsing and formatting of the scalar values a configuration file holds: durations, sizes and decimals.
///
/// All parsers are strict: no sign, no spaces, no underscores, ASCII digits only, and they return `nil` on any
/// malformed input or on overflow, leaving the error message (and range checks) to the caller.
public enum ConfigValue {
    /// Parses a duration: an integer followed by `ms`, `s`, `m` or `h`, or a bare integer meaning seconds.
    ///
    /// `250ms`, `15s`, `2m`, `1h`, `30` (= 30s), `0s`. Units are lowercase; fractions (`1.5s`) are not accepted,
    /// so every duration is a whole number of milliseconds. Returns `nil` for anything else, or when the value in
    /// milliseconds does not fit in an `Int64`.
    public static func parseDuration(_ text: String) -> Duration? {
        let (digits, unit) = splitNumber(text)
        guard let count = parseInteger(digits) else { return nil }
        let millisecondsPerUnit: Int64
        switch unit {
        case "ms": millisecondsPerUnit = 1
        case "", "s": millisecondsPerUnit = 1000
        case "m": millisecondsPerUnit = 60 * 1000
        case "h": millisecondsPerUnit = 60 * 60 * 1000
        default: return nil
        }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: millisecondsPerUnit)
        guard !overflow else { return nil }
        return .milliseconds(milliseconds)
    }

    /// Parses a size in bytes: an integer, optionally followed by `k` (× 1024) or `m` (× 1024²), either case.
    ///
    /// `512`, `16k`, `1m`, `64M`. Returns `nil` for anything else (including `g` and fractions), or on overflow.
    public static func parseSize(_ text: String) -> Int? {
        let (digits, unit) = splitNumber(text)
        guard let count = parseInteger(digits) else { return nil }
        let multiplier: Int64
        switch unit {
        case "": multiplier = 1
        case "k", "K": multiplier = 1024
        case "m", "M": multiplier = 1024 * 1024
        default: return nil
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow, let result = Int(exactly: bytes) else { return nil }
        return result
    }

    /// The shortest exact way to write `duration` in a configuration file: `250ms`, `15s`, `2m`, `1h`, `0s`.
    ///
    /// `TimeAmount.formatted(.config)` (the largest unit that divides the duration: `90s` stays `90s`, `120s` becomes
    /// `2m`; `us` or `ns` when finer than a millisecond), plus what a `TimeAmount` cannot hold: negative durations
    /// get a `-`, and one finer than nanoseconds (or beyond `UInt64.max` nanoseconds) is written with `Duration`'s
    /// own description.
    public static func formatDuration(_ duration: Duration) -> String {
        if duration < .zero { return "-" + formatDuration(.zero - duration) }
        let amount = TimeAmount(duration)
        guard amount.duration == duration else { return "\(duration)" }
        return amount.formatted(.config)
    }

    /// A size in the shortest exact form the parser reads back: `1m`, `16k`, `1000`.
    public static func formatSize(_ bytes: Int) -> String {
        if bytes != 0, bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024))m" }
        if bytes != 0, bytes % 1024 == 0 { return "\(bytes / 1024)k" }
        return "\(bytes)"
    }

    /// Parses a plain decimal: ASCII digits with an optional fraction (`0.33`, `1`, `0.5`); no sign, no exponent,
    /// no `nan`/`inf`, at most 32 characters. Returns `nil` for anything else.
    static func parseDecimal(_ text: String) -> Double? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 32 else { return nil }
        let parts = utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isDigit) }) else { return nil }
        return Double(text)
    }

    /// Parses a plain non-negative integer of ASCII digits (`1`, `10000`); `nil` when malformed or above `Int64.max`.
    static func parseInteger(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy(isDigit) else { return nil }
        return Int64(text)  // nil on overflow
    }

    /// Splits `15s` into `("15", "s")`: the leading ASCII digits, and the rest.
    private static func splitNumber(_ text: String) -> (digits: Substring, unit: Substring) {
        let end = text.utf8.firstIndex { !isDigit($0) } ?? text.endIndex
        return (text[..<end], text[end...])
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
