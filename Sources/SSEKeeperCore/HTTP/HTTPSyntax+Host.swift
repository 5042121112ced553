/// The authority syntax of RFC 3986 §3.2 as HTTP uses it: the Host field (RFC 9110 §7.2, `Host = uri-host
/// [ ":" port ]`) and the authority of an absolute-form target (RFC 9112 §3.2.2).
///
/// The proxy sends both upstream, as Host and X-Forwarded-Host, so a value outside this grammar (a space, a `/`,
/// a `\`, a second port) would reach applications that build URLs or route by host from it.
extension HTTPSyntax {
    /// Whether `value` is a valid Host field value: empty (RFC 9112 §3.2 lets a client send an empty Host when
    /// the target has no authority), or `host [ ":" port ]` with a non-empty host.
    static func isValidHostFieldValue(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { $0.isEmpty || isValidHostAndPort($0) }
    }

    /// Whether `authority` is `[ userinfo "@" ] host [ ":" port ]` with a non-empty host, as an `http` or
    /// `https` absolute-form target needs (RFC 9110 §4.2.1: an empty host "MUST be rejected as invalid").
    static func isValidAbsoluteFormAuthority(_ authority: Substring) -> Bool {
        var authority = authority
        return authority.withUTF8 { bytes in
            guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return isValidHostAndPort(bytes) }
            let userinfo = UnsafeBufferPointer(rebasing: bytes[..<at])
            return isValidPercentEncodedRun(userinfo) { isUnreservedOrSubDelim($0) || $0 == colon }
                && isValidHostAndPort(UnsafeBufferPointer(rebasing: bytes[(at + 1)...]))
        }
    }

    /// `host [ ":" port ]`: an IP-literal in brackets or a non-empty reg-name (IPv4 addresses are reg-names too),
    /// then optionally `:` and zero or more digits (RFC 3986 §3.2.2, §3.2.3).
    static func isValidHostAndPort(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let hostEnd: Int
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")),
                  isValidIPLiteralContent(UnsafeBufferPointer(rebasing: bytes[1..<close])) else { return false }
            hostEnd = close + 1
        } else {
            hostEnd = bytes.firstIndex(of: colon) ?? bytes.count
            let host = UnsafeBufferPointer(rebasing: bytes[..<hostEnd])
            guard !host.isEmpty, isValidPercentEncodedRun(host, where: isUnreservedOrSubDelim) else { return false }
        }
        guard hostEnd < bytes.count else { return true }
        guard bytes[hostEnd] == colon else { return false }
        return bytes[(hostEnd + 1)...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// The inside of `[...]`: an IPv6 address (hex digits, `:`, `.` for an embedded IPv4, at least one `:`) or
    /// an IPvFuture `v1*HEXDIG "." 1*( unreserved / sub-delims / ":" )` (RFC 3986 §3.2.2). The IPv6 grouping
    /// itself is not checked: the bytes cannot break out of the field either way.
    private static func isValidIPLiteralContent(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        if lowercased(first) == UInt8(ascii: "v") {
            guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), dot > 1, dot + 1 < bytes.count else { return false }
            return bytes[1..<dot].allSatisfy { hexValue($0) != nil }
                && bytes[(dot + 1)...].allSatisfy { isUnreservedOrSubDelim($0) || $0 == colon }
        }
        return bytes.contains(colon) && bytes.allSatisfy { hexValue($0) != nil || $0 == colon || $0 == UInt8(ascii: ".") }
    }

    /// Whether every byte of `bytes` is allowed by `isAllowed` or starts a `%` HEXDIG HEXDIG escape.
    private static func isValidPercentEncodedRun(_ bytes: UnsafeBufferPointer<UInt8>, where isAllowed: (UInt8) -> Bool) -> Bool {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, hexValue(bytes[index + 1]) != nil, hexValue(bytes[index + 2]) != nil else {
                    return false
                }
                index += 3
            } else {
                guard isAllowed(bytes[index]) else { return false }
                index += 1
            }
        }
        return true
    }

    /// `unreserved / sub-delims` (RFC 3986 §2.2, §2.3): `A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; =`.
    private static func isUnreservedOrSubDelim(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A:
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
             UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }
}
