/// Why a value was rejected, as a message for a `ConfigError` at the value's token.
struct ConfigValueProblem: Error, Equatable {
    var message: String
}

extension ConfigValue {
    /// Parses a `listen` argument: `HOST:PORT`, `[IPv6]:PORT`, `*:PORT` or a bare `PORT`.
    ///
    /// `*:PORT` and `PORT` mean every interface (`host == nil`). IPv6 hosts are stored without brackets.
    static func parseListenAddress(_ text: String) -> Result<ListenAddress, ConfigValueProblem> {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return parsePort(text, in: text).map { ListenAddress(host: nil, port: $0) }
        }
        if text.hasPrefix("*:") {
            return parsePort(String(text.dropFirst(2)), in: text).map { ListenAddress(host: nil, port: $0) }
        }
        return parseHostPort(text, usage: "HOST:PORT or PORT").map { ListenAddress(host: $0.host, port: $0.port) }
    }

    /// Parses a `server` argument: `HOST:PORT` or `[IPv6]:PORT`, where HOST is an IPv4 address or a host name.
    static func parseServerAddress(_ text: String) -> Result<ServerAddress, ConfigValueProblem> {
        parseHostPort(text, usage: "HOST:PORT").map { ServerAddress(host: $0.host, port: $0.port) }
    }

    /// Splits and checks `HOST:PORT` / `[IPv6]:PORT`; `usage` completes the "missing port" message.
    private static func parseHostPort(
        _ text: String, usage: String
    ) -> Result<(host: String, port: UInt16), ConfigValueProblem> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(ConfigValueProblem(message: "missing \"]\" in IPv6 address \"\(text)\""))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                let message = rest.isEmpty
                    ? "missing port in \"\(text)\" (use \(usage))"
                    : "expected \":\" after \"]\" in \"\(text)\""
                return .failure(ConfigValueProblem(message: message))
            }
            portText = rest.dropFirst()
            guard isIPv6(host) else {
                return .failure(ConfigValueProblem(message: "invalid IPv6 address \"\(host)\" in \"\(text)\""))
            }
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons > 1 {
                return .failure(
                    ConfigValueProblem(message: "IPv6 address must be in brackets, e.g. \"[::1]:8080\", got \"\(text)\""))
            }
            guard let colon = text.firstIndex(of: ":") else {
                return .failure(ConfigValueProblem(message: "missing port in \"\(text)\" (use \(usage))"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if let problem = hostProblem(host, in: text) { return .failure(problem) }
        }
        return parsePort(String(portText), in: text).map { (String(host), $0) }
    }

    /// A port of 1...65535 written in plain digits.
    static func parsePort(_ portText: String, in text: String) -> Result<UInt16, ConfigValueProblem> {
        guard let value = parseInteger(Substring(portText)) else {
            let message = portText.isEmpty
                ? "missing port in \"\(text)\""
                : "invalid port \"\(portText)\" in \"\(text)\" (use a number from 1 to 65535)"
            return .failure(ConfigValueProblem(message: message))
        }
        guard value >= 1, value <= 65535 else {
            return .failure(ConfigValueProblem(message: "port must be between 1 and 65535, got \(portText)"))
        }
        return .success(UInt16(value))
    }

    /// Why `host` is neither a dotted-quad IPv4 address nor a DNS host name, or `nil` when it is one of them.
    ///
    /// A host of only digits and dots must be a valid IPv4 address; otherwise it must be labels of ASCII letters,
    /// digits and `-` (not at either end of a label, 1-63 bytes each) joined by `.`, 253 bytes at most.
    static func hostProblem(_ host: Substring, in text: String) -> ConfigValueProblem? {
        if host.isEmpty {
            return ConfigValueProblem(message: "missing host in \"\(text)\"")
        }
        if host.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || isDigitByte($0) }) {
            return isIPv4(host) ? nil : ConfigValueProblem(message: "invalid IPv4 address \"\(host)\" in \"\(text)\"")
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let isHostName = host.utf8.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { isDigitByte($0) || isLetterByte($0) || $0 == UInt8(ascii: "-") }
        }
        guard isHostName else {
            return ConfigValueProblem(
                message: "invalid host \"\(host)\" in \"\(text)\" (use an IPv4 address, [IPv6] or a host name "
                    + "of letters, digits, \"-\" and \".\")")
        }
        return nil
    }

    /// Four decimal parts of 0...255, each of 1-3 digits.
    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.utf8.count <= 3 && part.utf8.allSatisfy(isDigitByte) && Int(part)! <= 255
        }
    }

    /// RFC 4291 section 2.2 text forms: eight groups of 1-4 hex digits, at most one `::`, and optionally a
    /// dotted-quad IPv4 address in place of the last two groups. Zone IDs (`%eth0`) are not accepted.
    static func isIPv6(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 45 else { return false }
        var halves = [text]
        if let gap = text.firstRange(of: "::") {
            halves = [text[..<gap.lowerBound], text[gap.upperBound...]]
            guard halves[1].firstRange(of: "::") == nil else { return false }
        }
        var groupCount = 0
        for (halfIndex, half) in halves.enumerated() where !half.isEmpty {
            let groups = half.split(separator: ":", omittingEmptySubsequences: false)
            for (groupIndex, group) in groups.enumerated() {
                let isLast = halfIndex == halves.count - 1 && groupIndex == groups.count - 1
                if isLast, group.contains(".") {
                    guard isIPv4(group) else { return false }
                    groupCount += 2
                } else {
                    guard !group.isEmpty, group.utf8.count <= 4, group.utf8.allSatisfy(isHexDigitByte) else {
                        return false
                    }
                    groupCount += 1
                }
            }
        }
        return halves.count == 2 ? groupCount <= 7 : groupCount == 8
    }

    static func isDigitByte(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isLetterByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isHexDigitByte(_ byte: UInt8) -> Bool {
        isDigitByte(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
