/// Formats integer nanoseconds as decimal seconds, exactly (no floating point): `1.5`, `0.005`, `2`.
///
/// Used by the metrics exposition (bucket bounds and sums) and by JSON output, both of which want a plain
/// decimal number (Prometheus text format 0.0.4 takes Go `ParseFloat` syntax; RFC 8259 §6 numbers).
public enum DecimalSeconds {
    /// `nanos` in seconds with at most `fractionDigits` (0...9) digits after the point, truncated, trailing zeros
    /// (and a trailing point) removed.
    public static func format(nanos: UInt64, fractionDigits: Int = 9) -> String {
        let digits = min(max(fractionDigits, 0), 9)
        let whole = nanos / 1_000_000_000
        var fraction = nanos % 1_000_000_000
        for _ in 0..<(9 - digits) { fraction /= 10 }
        guard fraction != 0 else { return String(whole) }
        var fractionText = String(fraction)
        fractionText = String(repeating: "0", count: digits - fractionText.count) + fractionText
        while fractionText.hasSuffix("0") { fractionText.removeLast() }
        return "\(whole).\(fractionText)"
    }
}
