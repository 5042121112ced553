extension ConfigValue {
    /// Parses one `cors_allow_origin` origin into the serialization a browser sends in its `Origin` field
    /// (WHATWG HTML §7.1.1 "serialization of an origin", used by WHATWG Fetch §3.1 for `Origin`), so that a
    /// request's `Origin` can be compared with it byte for byte.
    ///
    /// Accepted: `http://HOST[:PORT]` or `https://HOST[:PORT]`, where HOST is a DNS name (letters, digits, `-`,
    /// `.`), a dotted-quad IPv4 address without leading zeros, or `[IPv6]`. The scheme and host are lowercased, an
    /// IPv6 address is written in its shortest form (RFC 5952, as the URL standard serializes it), and the
    /// scheme's default port (80, 443) is dropped, as a browser drops it. Refused with a reason: `null` (the
    /// origin of sandboxed documents and `file:` pages, which any page can take on), other schemes, a path (even
    /// `/`), a query, user info, a non-ASCII host (write its `xn--` form), and a port outside 1...65535.
    static func parseOrigin(_ text: String) -> Result<String, ConfigValueProblem> {
        func problem(_ message: String) -> Result<String, ConfigValueProblem> {
            .failure(ConfigValueProblem(message: message))
        }
        let usage = "use scheme://host[:port], e.g. \"https://app.example\""
        if text == "null" {
            return problem("the \"null\" origin cannot be allowed: sandboxed documents and file: pages send it, so any page can")
        }
        guard let separator = text.firstRange(of: "://") else {
            return problem("invalid origin \"\(text)\" (\(usage))")
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            return problem("origin \"\(text)\" must use http or https")
        }
        let authority = text[separator.upperBound...]
        if let index = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            let hint = authority[index...] == "/" ? ": drop the trailing \"/\"" : ""
            return problem("origin \"\(text)\" must not have a path, query or fragment\(hint)")
        }
        guard !authority.contains("@") else {
            return problem("origin \"\(text)\" must not contain user info")
        }
        guard authority.unicodeScalars.allSatisfy({ $0.isASCII }) else {
            return problem("origin \"\(text)\" has a non-ASCII host: write it in its ASCII (xn--) form, as browsers send it")
        }
        var host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]"),
                  let canonical = canonicalIPv6(authority[authority.index(after: authority.startIndex)..<close]) else {
                return problem("invalid IPv6 address in origin \"\(text)\"")
            }
            host = "[\(canonical)]"
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return problem("invalid origin \"\(text)\" (\(usage))") }
                portText = rest.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0].lowercased()
            portText = parts.count > 1 ? parts[1] : nil
            if let bad = hostProblem(Substring(host), in: text) { return .failure(bad) }
            if host.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || isDigitByte($0) }),
               host.split(separator: ".").contains(where: { $0.count > 1 && $0.hasPrefix("0") }) {
                return problem("IPv4 address \"\(host)\" in origin \"\(text)\" has a leading zero (browsers read it as octal)")
            }
        }
        guard let portText else { return .success("\(scheme)://\(host)") }
        let port: UInt16
        switch parsePort(String(portText), in: text) {
        case .success(let value): port = value
        case .failure(let bad): return .failure(bad)
        }
        let isDefault = (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
        return .success(isDefault ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(port)")
    }

    /// `text` (an `isIPv6` address) in the URL standard's serialization: lowercase hex without leading zeros,
    /// the first longest run of two or more zero pieces as `::`, an embedded IPv4 part as two pieces. Nil when
    /// `text` is not an IPv6 address.
    static func canonicalIPv6(_ text: Substring) -> String? {
        guard isIPv6(text) else { return nil }
        func pieces(_ half: Substring) -> [UInt16] {
            guard !half.isEmpty else { return [] }
            return half.split(separator: ":", omittingEmptySubsequences: false).flatMap { group -> [UInt16] in
                guard group.contains(".") else { return [UInt16(group, radix: 16)!] }
                let bytes = group.split(separator: ".").map { UInt16($0)! }
                return [bytes[0] << 8 | bytes[1], bytes[2] << 8 | bytes[3]]
            }
        }
        var address: [UInt16]
        if let gap = text.firstRange(of: "::") {
            let head = pieces(text[..<gap.lowerBound])
            let tail = pieces(text[gap.upperBound...])
            address = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            address = pieces(text)
        }
        var best: (start: Int, length: Int) = (0, 0)
        var index = 0
        while index < 8 {
            var end = index
            while end < 8 && address[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = max(end, index + 1)
        }
        let hex = address.map { String($0, radix: 16) }
        guard best.length > 1 else { return hex.joined(separator: ":") }
        return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
    }
}
