/// Every way ssekeeper writes an amount of time as text, exactly (integer arithmetic, no floating point).
extension TimeAmount {
    /// How `formatted(_:)` writes an amount.
    public enum Style: Sendable, Equatable {
        /// The configuration file's syntax, in the largest unit that is exact: `250ms`, `15s`, `90s`, `2m`, `1h`,
        /// `0s`. An amount that is not a whole number of milliseconds is written in `us` or `ns` (for logs only:
        /// the config parser reads neither).
        case config
        /// A plain decimal number of seconds with at most `fractionDigits` (clamped to 0...9) digits after the
        /// point, truncated, trailing zeros (and a trailing point) dropped: `1.5`, `0.005`, `2`. For JSON
        /// (RFC 8259 §6 numbers) and the Prometheus text format 0.0.4 (Go `ParseFloat` syntax).
        case decimal(fractionDigits: Int)
        /// Seconds to the millisecond, truncated, trailing zeros dropped, with `s`: `4s`, `2.5s`, `2.667s` (the
        /// probe report's silences).
        case seconds
        /// Seconds with exactly three decimals, truncated, with `s`: `0.005s`, `61.250s` (access log and warnings).
        case secondsToMilliseconds
        /// Seconds with exactly one decimal, rounded to the nearest tenth (half up), with `s`: `60.1s`, `2.0s` (the
        /// probe's status line and findings).
        case secondsToTenths
    }

    /// This amount written in `style`.
    public func formatted(_ style: Style) -> String {
        switch style {
        case .config:
            return configText
        case .decimal(let fractionDigits):
            return decimalText(fractionDigits: fractionDigits)
        case .seconds:
            return decimalText(fractionDigits: 3) + "s"
        case .secondsToMilliseconds:
            return "\(milliseconds / 1000).\(Self.zeroPadded(milliseconds % 1000, width: 3))s"
        case .secondsToTenths:
            // Cannot overflow: milliseconds ≤ UInt64.max / 1_000_000.
            let tenths = (milliseconds + 50) / 100
            return "\(tenths / 10).\(tenths % 10)s"
        }
    }

    private var configText: String {
        if nanoseconds == 0 { return "0s" }
        if nanoseconds % 1_000_000_000 == 0 {
            let seconds = self.seconds
            if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds % 60 == 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }
        if nanoseconds % 1_000_000 == 0 { return "\(milliseconds)ms" }
        if nanoseconds % 1000 == 0 { return "\(nanoseconds / 1000)us" }
        return "\(nanoseconds)ns"
    }

    private func decimalText(fractionDigits: Int) -> String {
        let digits = min(max(fractionDigits, 0), 9)
        var fraction = nanoseconds % 1_000_000_000
        for _ in 0..<(9 - digits) { fraction /= 10 }
        guard fraction != 0 else { return String(seconds) }
        var fractionText = Self.zeroPadded(fraction, width: digits)
        while fractionText.hasSuffix("0") { fractionText.removeLast() }
        return "\(seconds).\(fractionText)"
    }

    private static func zeroPadded(_ value: UInt64, width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
