/// The static Huffman code of HPACK (RFC 7541 §5.2, Appendix B): encoding, and a table-driven decoder.
///
/// The code is canonical: within one code length, codes are consecutive in symbol order, and each length's first
/// code follows the previous length's last. So Appendix B is fully described by the 257 code lengths below
/// (`codeLengths`), and the codes themselves are derived at first use; a test checks them against values printed
/// in Appendix B.
///
/// Decoding walks the code tree four bits at a time through a 256-state × 16-nibble transition table built at
/// first use (the states are the 256 inner nodes of the tree). The shortest code has 5 bits, so one nibble
/// completes at most one symbol. Decoding rejects, with `HPACKHuffmanError`, the EOS symbol inside a string,
/// padding longer than 7 bits and padding that is not the most significant bits of EOS (all ones) (§5.2).
public enum HPACKHuffman {
    /// The EOS symbol (256): 30 one bits, never valid inside a string (§5.2).
    public static let endOfString = 256

    /// The code length in bits of each symbol 0...256 (RFC 7541 Appendix B), 256 being EOS.
    static let codeLengths: [UInt8] = [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ]

    /// The code of each symbol 0...256, right-aligned in `codeLengths[symbol]` bits (Appendix B, "code as hex").
    static let codes: [UInt32] = {
        let order = (0...256).sorted { (codeLengths[$0], $0) < (codeLengths[$1], $1) }
        var codes = [UInt32](repeating: 0, count: 257)
        var code: UInt32 = 0
        var length = codeLengths[order[0]]
        for (position, symbol) in order.enumerated() {
            if position > 0 {
                code += 1
                code <<= UInt32(codeLengths[symbol] - length)
                length = codeLengths[symbol]
            }
            codes[symbol] = code
        }
        return codes
    }()

    /// How many bytes `bytes` take Huffman-encoded, padding included.
    public static func encodedLength<Bytes: Sequence>(of bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var bits = 0
        for byte in bytes { bits += Int(codeLengths[Int(byte)]) }
        return (bits + 7) / 8
    }

    /// Appends the Huffman encoding of `bytes` to `output`, padded with the most significant bits of EOS (§5.2).
    public static func encode<Bytes: Sequence>(_ bytes: Bytes, into output: inout [UInt8]) where Bytes.Element == UInt8 {
        var pending: UInt64 = 0
        var pendingBits = 0
        for byte in bytes {
            let length = Int(codeLengths[Int(byte)])
            pending = pending << UInt64(length) | UInt64(codes[Int(byte)])
            pendingBits += length
            while pendingBits >= 8 {
                pendingBits -= 8
                output.append(UInt8(truncatingIfNeeded: pending >> UInt64(pendingBits)))
            }
        }
        if pendingBits > 0 {
            let padding = 8 - pendingBits
            output.append(UInt8(truncatingIfNeeded: pending << UInt64(padding) | (1 << UInt64(padding) - 1)))
        }
    }

    /// The Huffman encoding of `bytes`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(encodedLength(of: bytes))
        encode(bytes, into: &output)
        return output
    }

    /// Decodes a Huffman-encoded string (§5.2), appending the octets to `output`.
    ///
    /// Throws `.decodedTooLong` as soon as more than `maxLength` octets would be appended (so the work and memory
    /// stay bounded by the limit, whatever the input), `.endOfStringInString` for the EOS code,
    /// `.paddingTooLong` for more than 7 bits after the last symbol, `.paddingNotAllOnes` when those bits are
    /// not all ones. On error `output` holds what was decoded before it.
    public static func decode<Bytes: Sequence>(
        _ bytes: Bytes, into output: inout [UInt8], maxLength: Int = .max
    ) throws(HPACKHuffmanError) where Bytes.Element == UInt8 {
        let table = decodingTable.transitions
        var state = 0
        var produced = 0
        for byte in bytes {
            for nibble in 0..<2 {
                let entry = table[state << 4 | Int(nibble == 0 ? byte >> 4 : byte & 0x0F)]
                if entry & DecodingTable.failed != 0 { throw .endOfStringInString }
                if entry & DecodingTable.emits != 0 {
                    produced += 1
                    if produced > maxLength { throw .decodedTooLong(maxLength: maxLength) }
                    output.append(UInt8(truncatingIfNeeded: entry >> 8))
                }
                state = Int(entry & 0xFF)
            }
        }
        switch decodingTable.endings[state] {
        case DecodingTable.acceptEnding: return
        case DecodingTable.paddingTooLongEnding: throw .paddingTooLong
        default: throw .paddingNotAllOnes
        }
    }

    /// The decoded octets of a Huffman-encoded string (see `decode(_:into:maxLength:)`).
    public static func decode<Bytes: Sequence>(
        _ bytes: Bytes, maxLength: Int = .max
    ) throws(HPACKHuffmanError) -> [UInt8] where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        try decode(bytes, into: &output, maxLength: maxLength)
        return output
    }

    /// The nibble state machine: 256 states (inner nodes of the code tree, 0 the root) × 16 nibbles.
    struct DecodingTable: Sendable {
        /// Flag: the nibble completed a symbol (in bits 8-15).
        static let emits: UInt32 = 1 << 16
        /// Flag: the nibble reached EOS.
        static let failed: UInt32 = 1 << 17
        /// Ending here is fine: at a symbol boundary or after at most 7 one bits of padding.
        static let acceptEnding: UInt8 = 0
        /// Ending here leaves 8 or more one bits of padding.
        static let paddingTooLongEnding: UInt8 = 1
        /// Ending here leaves padding with a zero bit.
        static let paddingNotAllOnesEnding: UInt8 = 2

        /// `transitions[state << 4 | nibble]`: next state in bits 0-7, symbol in bits 8-15, then the flags.
        var transitions: [UInt32]
        /// What ending a string in each state means: accepted, padding too long, or padding not all ones.
        var endings: [UInt8]
    }

    /// The decoding state machine, built from `codes` at first use (thread-safe: a global's lazy initializer).
    static let decodingTable: DecodingTable = {
        // The code tree: inner nodes 0..<256, children as node numbers or ~symbol for leaves.
        var children: [[Int]] = [[0, 0]]
        var depth = [0]
        var allOnes = [true]
        for symbol in 0...256 {
            let length = Int(codeLengths[symbol])
            let code = codes[symbol]
            var node = 0
            for bitIndex in stride(from: length - 1, through: 0, by: -1) {
                let bit = Int(code >> UInt32(bitIndex) & 1)
                if bitIndex == 0 {
                    children[node][bit] = ~symbol
                } else {
                    if children[node][bit] == 0 {
                        children.append([0, 0])
                        depth.append(depth[node] + 1)
                        allOnes.append(allOnes[node] && bit == 1)
                        children[node][bit] = children.count - 1
                    }
                    node = children[node][bit]
                }
            }
        }
        precondition(children.count == 256, "the HPACK code tree has 256 inner nodes")
        var transitions = [UInt32](repeating: 0, count: 256 * 16)
        for state in 0..<256 {
            for nibble in 0..<16 {
                var node = state
                var entry: UInt32 = 0
                for shift in stride(from: 3, through: 0, by: -1) {
                    let child = children[node][nibble >> shift & 1]
                    if child >= 0 {
                        node = child
                    } else if ~child == endOfString {
                        entry |= DecodingTable.failed
                        node = 0
                        break
                    } else {
                        entry |= DecodingTable.emits | UInt32(~child) << 8
                        node = 0
                    }
                }
                transitions[state << 4 | nibble] = entry | UInt32(node)
            }
        }
        let endings: [UInt8] = (0..<256).map { node in
            if !allOnes[node] { return DecodingTable.paddingNotAllOnesEnding }
            return depth[node] <= 7 ? DecodingTable.acceptEnding : DecodingTable.paddingTooLongEnding
        }
        return DecodingTable(transitions: transitions, endings: endings)
    }()
}
