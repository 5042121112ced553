/// HPACK's prefixed integers (RFC 7541 §5.1), with the bounds this decoder enforces.
public enum HPACKInteger {
    /// The largest integer accepted: 2^32 - 1. Nothing HPACK counts (indices, lengths, table sizes) needs more.
    public static let maxValue = Int(UInt32.max)
    /// The most continuation bytes accepted after the prefix: 5 (35 bits), enough for `maxValue` from any prefix
    /// with a few redundant zero groups; more is refused rather than read on (§5.1 allows it, §7.4's bound).
    public static let maxContinuationBytes = 5

    /// Appends `value` with an `prefixBits`-bit prefix (1...8), the first byte's other bits set to `flags`.
    public static func encode(_ value: Int, prefixBits: Int, flags: UInt8, into output: inout [UInt8]) {
        precondition(value >= 0 && prefixBits >= 1 && prefixBits <= 8, "invalid HPACK integer")
        let prefixMax = (1 << prefixBits) - 1
        if value < prefixMax {
            output.append(flags | UInt8(value))
            return
        }
        output.append(flags | UInt8(prefixMax))
        var rest = value - prefixMax
        while rest >= 128 {
            output.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    /// Reads an integer with a `prefixBits`-bit prefix starting at `position` in `block`, advancing `position` past
    /// it. Offsets in errors count from `block.startIndex`.
    ///
    /// Throws `.truncated` when the block ends inside the integer, `.integerOverflow` above `maxValue` or past
    /// `maxContinuationBytes`.
    public static func decode(
        _ block: ArraySlice<UInt8>, at position: inout Int, prefixBits: Int
    ) throws(HPACKError) -> Int {
        let start = position
        guard position < block.endIndex else { throw .truncated(offset: position - block.startIndex) }
        let prefixMax = (1 << prefixBits) - 1
        var value = Int(block[position]) & prefixMax
        position += 1
        guard value == prefixMax else { return value }
        var shift = 0
        for _ in 0..<maxContinuationBytes {
            guard position < block.endIndex else { throw .truncated(offset: position - block.startIndex) }
            let byte = block[position]
            position += 1
            value += Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 {
                guard value <= maxValue else { throw .integerOverflow(offset: start - block.startIndex) }
                return value
            }
        }
        throw .integerOverflow(offset: start - block.startIndex)
    }
}
