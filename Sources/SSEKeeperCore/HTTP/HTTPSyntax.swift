/// Byte classes and list helpers shared by the HTTP/1.1 parsers and builders (RFC 9110 §5.6, RFC 9112 §2.2).
///
/// Everything works on ASCII bytes without Foundation and without allocating, except `listElements`, which is
/// meant for the rare paths (framing decisions, the builders).
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C
    static let semicolon: UInt8 = 0x3B
    static let questionMark: UInt8 = 0x3F

    /// `tchar` (RFC 9110 §5.6.2): the bytes of a method or a field name.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A:
            return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E:
            return true
        default:
            return false
        }
    }

    /// `SP / HTAB`, the bytes of `OWS` and `BWS` (RFC 9110 §5.6.3).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == htab
    }

    /// `field-vchar / SP / HTAB` (RFC 9110 §5.5): everything but the control bytes and DEL; obs-text allowed.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == htab || (byte >= 0x20 && byte != 0x7F)
    }

    /// Whether all eight bytes of `word` are SP or visible ASCII (0x20...0x7E): field value bytes that are ASCII.
    /// False when any is not (HTAB, obs-text and invalid bytes included): the caller then looks at each byte.
    /// Per byte, a high bit means at least 0x80, a borrow into it from subtracting 0x20 means below 0x20, and the
    /// has-zero-byte test on `word ^ 0x7F...` finds DEL; a borrow never crosses a byte whose high bit is clear.
    @inline(__always)
    static func isSpaceOrVisibleASCII(word: UInt64) -> Bool {
        let ones = ByteScan.ones, highBits = ByteScan.highBits
        let delete = word ^ (ones &* 0x7F)
        let below0x20 = (word &- ones &* 0x20) & ~word
        let isDelete = (delete &- ones) & ~delete
        return (word | below0x20 | isDelete) & highBits == 0
    }

    /// A byte of a request-target: visible ASCII (RFC 9112 §3.2; URI syntax is ASCII only, RFC 3986 §2).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E
    }

    /// Whether `target` (already known to be target bytes) has one of the four forms of RFC 9112 §3.2:
    /// origin-form (`/` first), absolute-form (a scheme, RFC 3986 §3.1, then `:`), asterisk-form (`*`, for
    /// `OPTIONS` only, §3.2.4) or authority-form (`host:port`, for `CONNECT` only, §3.2.3). `foo` is none of
    /// them: a server answers 400 (§3.2).
    static func isRequestTargetForm(_ target: UnsafeRawBufferPointer, method: String) -> Bool {
        guard let first = target.first else { return false }
        // No form has a fragment (RFC 9112 §3.2; a client never sends one, RFC 9110 §7.1): refused, rather than
        // forwarded in a form the upstream and ssekeeper could read differently (the fuzzers found
        // `GET http://h#frag`, whose origin-form would have started with `#`).
        if target.contains(UInt8(ascii: "#")) { return false }
        if first == UInt8(ascii: "/") { return true }
        if target.count == 1 && first == UInt8(ascii: "*") { return method == "OPTIONS" }
        if method == "CONNECT" { return isValidHostAndPort(target.assumingMemoryBound(to: UInt8.self)) }
        guard isLetter(first), let schemeEnd = target.firstIndex(of: colon) else { return false }
        return target[1..<schemeEnd].allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }

    /// An ASCII letter (RFC 5234 ALPHA).
    @inline(__always)
    static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
    }

    /// The hex value of an ASCII hex digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte &- 0x30
        case 0x41...0x46: return byte &- 0x41 &+ 10
        case 0x61...0x66: return byte &- 0x61 &+ 10
        default: return nil
        }
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte &- 0x41) < 26 ? byte | 0x20 : byte
    }

    /// Whether `bytes` are exactly `text`'s UTF-8, compared eight bytes at a time (`elementsEqual` over raw
    /// buffers stepped an iterator per byte: about 380 instructions for a 17-byte name, callgrind).
    static func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ text: String) -> Bool {
        guard bytes.count == text.utf8.count else { return false }
        return text.utf8.withContiguousStorageIfAvailable { literal in
            let other = UnsafeRawBufferPointer(literal)
            var offset = 0
            while offset + 8 <= bytes.count {
                if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    != other.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                offset += 8
            }
            while offset < bytes.count {
                if bytes[offset] != other[offset] { return false }
                offset += 1
            }
            return true
        } ?? bytes.elementsEqual(text.utf8)
    }

    /// ASCII case-insensitive equality of two byte runs.
    static func equalsIgnoringCase(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        compareIgnoringCase(lhs, rhs) != .different
    }

    /// How two byte runs compare: equal byte for byte, equal only ignoring ASCII case, or different.
    enum CaseMatch { case exact, ignoringCase, different }

    /// How two byte runs compare, ignoring ASCII case (`CaseMatch`).
    /// Eight bytes at a time (`lowercased(word:)`), the last eight overlapping the word before; a run shorter than
    /// eight as two overlapping loads of four, two or one. A byte loop took about 12 instructions a byte
    /// (callgrind), and every field name of every head is compared once when it is recognized.
    @inline(__always)
    static func compareIgnoringCase(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> CaseMatch {
        guard lhs.count == rhs.count else { return .different }
        let left = UnsafeRawBufferPointer(lhs), right = UnsafeRawBufferPointer(rhs)
        let count = left.count
        var exact = true
        @inline(__always) func same(_ word: UInt64, _ other: UInt64) -> Bool {
            if word == other { return true }
            exact = false
            return lowercased(word: word) == lowercased(word: other)
        }
        @inline(__always) func same<Word: FixedWidthInteger & UnsignedInteger>(_ type: Word.Type, at offset: Int) -> Bool {
            same(UInt64(left.loadUnaligned(fromByteOffset: offset, as: type)),
                 UInt64(right.loadUnaligned(fromByteOffset: offset, as: type)))
        }
        let equal: Bool
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                guard same(UInt64.self, at: offset) else { return .different }
                offset += 8
            }
            equal = same(UInt64.self, at: count - 8)
        } else if count >= 4 {
            equal = same(UInt32.self, at: 0) && same(UInt32.self, at: count - 4)
        } else if count >= 2 {
            equal = same(UInt16.self, at: 0) && same(UInt16.self, at: count - 2)
        } else {
            equal = count == 0 || same(UInt8.self, at: 0)
        }
        return !equal ? .different : exact ? .exact : .ignoringCase
    }

    /// `word`'s eight bytes each as `lowercased(_:)` makes it: `A`...`Z` gain 0x20, every other byte (non-ASCII
    /// included) stays. Without branches: per byte, a high bit for "at least `A`" and one for "past `Z`" come from
    /// adding to its low seven bits, which cannot carry into the next byte.
    @inline(__always)
    static func lowercased(word: UInt64) -> UInt64 {
        let highBits = ByteScan.highBits
        let low7 = word & ~highBits
        let atLeastA = low7 &+ 0x3F3F_3F3F_3F3F_3F3F  // 0x80 - 0x41: high bit set from "A" up
        let pastZ = low7 &+ 0x2525_2525_2525_2525  // 0x80 - 0x5B: high bit set from "[" up
        let upper = atLeastA & ~pastZ & ~word & highBits
        return word | (upper >> 2)
    }

    /// ASCII case-insensitive equality of two strings, as field names and tokens compare (RFC 9110 §5.1).
    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        let fast = lhs.utf8.withContiguousStorageIfAvailable { lhsBytes in
            rhs.utf8.withContiguousStorageIfAvailable { rhsBytes in equalsIgnoringCase(lhsBytes, rhsBytes) }
        }
        if let fast = fast ?? nil { return fast }
        return lhs.utf8.elementsEqual(rhs.utf8) { lowercased($0) == lowercased($1) }
    }

    /// ASCII case-insensitive equality of bytes and a string.
    static func equalsIgnoringCase(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: String) -> Bool {
        guard lhs.count == rhs.utf8.count else { return false }
        if let fast = rhs.utf8.withContiguousStorageIfAvailable({ equalsIgnoringCase(lhs, $0) }) { return fast }
        return lhs.elementsEqual(rhs.utf8) { lowercased($0) == lowercased($1) }
    }

    /// ASCII case-insensitive equality of a substring and a string.
    static func equalsIgnoringCase(_ lhs: Substring, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        let fast = lhs.utf8.withContiguousStorageIfAvailable { lhsBytes in
            rhs.utf8.withContiguousStorageIfAvailable { rhsBytes in equalsIgnoringCase(lhsBytes, rhsBytes) }
        }
        if let fast = fast ?? nil { return fast }
        return lhs.utf8.elementsEqual(rhs.utf8) { lowercased($0) == lowercased($1) }
    }

    /// Whether the comma-separated list `list` has an element equal to `token`, ignoring case and OWS
    /// (RFC 9110 §5.6.1). Does not allocate for native strings.
    static func listContains(_ list: String, token: String) -> Bool {
        var token = token
        return token.withUTF8 { tokenBytes in
            containsListElement(in: list) { equalsIgnoringCase($0, tokenBytes) }
        }
    }

    /// Whether `predicate` holds for an element of the comma-separated list `list`, each element trimmed of OWS
    /// (empty ones included, RFC 9110 §5.6.1). Does not allocate for native strings.
    static func containsListElement(in list: String, where predicate: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        var list = list
        return list.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return predicate(bytes) }
            var elementStart = 0
            while elementStart <= bytes.count {
                let elementEnd = ByteScan.firstIndex(of: comma, in: base, from: elementStart, to: bytes.count)
                if predicate(trimmingWhitespace(UnsafeBufferPointer(rebasing: bytes[elementStart..<elementEnd]))) {
                    return true
                }
                elementStart = elementEnd + 1
            }
            return false
        }
    }

    /// `bytes` without leading and trailing SP and HTAB.
    static func trimmingWhitespace(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        while start < end && isWhitespace(bytes[start]) { start += 1 }
        while end > start && isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// The `type/subtype` of a media type or media range, without parameters or OWS (RFC 9110 §8.3.1, §12.5.1).
    static func mediaType(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let base = bytes.baseAddress else { return bytes }
        let end = ByteScan.firstIndex(of: semicolon, in: base, from: 0, to: bytes.count)
        return trimmingWhitespace(UnsafeBufferPointer(rebasing: bytes[..<end]))
    }

    /// Whether `bytes` hold the media type `text/event-stream`, any case, any parameters (WHATWG HTML §9.2).
    /// Read for every request's `Accept` and every response's `Content-Type`: the name is a `StaticString`, compared
    /// in place (a `String`'s `withUTF8` and a generic `firstIndex` made it about 250 instructions a call).
    static func isEventStreamMediaType(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let eventStream: StaticString = "text/event-stream"
        return equalsIgnoringCase(mediaType(bytes),
                                  UnsafeBufferPointer(start: eventStream.utf8Start, count: eventStream.utf8CodeUnitCount))
    }

    /// The non-empty elements of a comma-separated list, each trimmed of OWS (RFC 9110 §5.6.1).
    static func listElements(_ list: String) -> [Substring] {
        var elements: [Substring] = []
        appendListElements(list, to: &elements)
        return elements
    }

    /// Appends the non-empty elements of `list`, each trimmed of OWS, to `elements`: `listElements` without an
    /// array per list (or per split), for callers that gather several lines' elements.
    static func appendListElements(_ list: String, to elements: inout [Substring]) {
        let utf8 = list.utf8
        var start = utf8.startIndex
        while true {
            let end = utf8[start...].firstIndex(of: comma) ?? utf8.endIndex
            let trimmed = trimmingWhitespace(Substring(utf8[start..<end]))
            if !trimmed.isEmpty { elements.append(trimmed) }
            guard end != utf8.endIndex else { return }
            start = utf8.index(after: end)
        }
    }

    /// `value` without leading and trailing SP and HTAB.
    static func trimmingWhitespace(_ value: Substring) -> Substring {
        var utf8 = value.utf8[...]
        while let first = utf8.first, isWhitespace(first) { utf8 = utf8.dropFirst() }
        while let last = utf8.last, isWhitespace(last) { utf8 = utf8.dropLast() }
        return Substring(utf8)
    }

    /// The value of `1*DIGIT` (RFC 9110 §8.6), or nil when empty, not all digits, or over `UInt64.max`.
    static func decimalValue(_ value: Substring) -> UInt64? {
        guard !value.utf8.isEmpty else { return nil }
        var result: UInt64 = 0
        for byte in value.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (shifted, overflowShift) = result.multipliedReportingOverflow(by: 10)
            let (added, overflowAdd) = shifted.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflowShift && !overflowAdd else { return nil }
            result = added
        }
        return result
    }
}

extension HTTPSyntax {
    /// Whether `value` starts with the ASCII `prefix`, ignoring case.
    static func hasPrefixIgnoringCase(_ value: String, _ prefix: String) -> Bool {
        guard value.utf8.count >= prefix.utf8.count else { return false }
        return value.utf8.prefix(prefix.utf8.count).elementsEqual(prefix.utf8) { lowercased($0) == lowercased($1) }
    }
}
