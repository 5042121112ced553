/// The text of stamped ids (issue 15): `sk1.<token>.<seq>` and `sk1.<token>.<seq>.<backend-id>`, written without
/// allocating beyond the buffer written to. Parsing them back is `StampedEventID`'s (branch `crypto`); a stamp this
/// writes must parse there to the same token, seq and backend id.
extension EventIDStamper {
    /// The first characters of every stamped id: the format's version.
    public static let idPrefix: [UInt8] = Array("sk1.".utf8)
    /// The length of a stream token's text (128 random bits in base64url without padding).
    public static let tokenLength = 22
    static let idFieldPrefix: [UInt8] = Array("id: ".utf8)
    static let dot: UInt8 = 0x2E

    /// Appends the line `id: <id>` and its LF.
    func appendIDLine(_ id: [UInt8], to buffer: inout [UInt8]) {
        buffer.append(contentsOf: Self.idFieldPrefix)
        buffer.append(contentsOf: id)
        buffer.append(Self.lineFeed)
    }

    /// Appends `value` in decimal ASCII, without allocating beyond `out`'s growth.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let start = out.count
        out.append(contentsOf: repeatElement(0x30, count: digits))
        rest = value
        for index in stride(from: start + digits - 1, through: start, by: -1) {
            out[index] = 0x30 + UInt8(rest % 10)
            rest /= 10
        }
    }

    /// Whether `byte` is in the base64url alphabet (RFC 4648 §5).
    static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x5F: return true
        default: return false
        }
    }

    /// Whether `id` can be written as an `id:` value that a client keeps: not empty, and no CR, LF or U+0000.
    static func isWritableID(_ id: [UInt8]) -> Bool {
        !id.isEmpty && !id.contains { $0 == 0 || $0 == 0x0A || $0 == 0x0D }
    }
}
