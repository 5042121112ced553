/// The URL `ssekeeper probe` measures through: `http://` or `https://`, a host (name, IPv4 address or bracketed
/// IPv6 address), an optional port, and the probe path with any query the user gave (RFC 3986 §3, RFC 9110 §4.2).
///
/// Parsed strictly, because the parts end up in a request line and a Host field: every byte must be visible
/// ASCII (RFC 3986 §2), userinfo (`user@`) is refused (RFC 9110 §4.2.4 deprecates it, and the probe would send it
/// nowhere), a fragment (`#...`) is dropped as a client would (RFC 9110 §4.2.5). Limit: `maxLength` bytes.
public struct ProbeURL: Sendable, Equatable, CustomStringConvertible {
    /// The two schemes the probe speaks.
    public enum Scheme: String, Sendable, Equatable {
        case http
        case https

        /// 80 or 443 (RFC 9110 §4.2.1, §4.2.2).
        public var defaultPort: UInt16 { self == .http ? 80 : 443 }
    }

    /// The longest URL accepted, in bytes.
    public static let maxLength = 4096

    /// `http` or `https`.
    public var scheme: Scheme
    /// The host without brackets: `example.com`, `10.0.0.1`, `::1`.
    public var host: String
    /// The port, the scheme's default when the URL names none.
    public var port: UInt16
    /// The path, starting with `/` (`/` when the URL has none).
    public var path: String
    /// The query without its `?`, when the URL has one.
    public var query: String?

    /// Whether the host is written in brackets (an IPv6 address).
    public var isIPv6Literal: Bool { host.contains(":") }

    /// Whether the host is an IP address rather than a name: no SNI is sent for it (RFC 6066 §3), and the
    /// certificate must name the address.
    public var isIPLiteral: Bool {
        isIPv6Literal || (host.split(separator: ".", omittingEmptySubsequences: false).count == 4
                          && host.utf8.allSatisfy { $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) })
    }

    /// The Host field value: the host (bracketed for IPv6) and the port unless it is the scheme's default
    /// (RFC 9110 §7.2).
    public var hostField: String {
        let bracketed = isIPv6Literal ? "[\(host)]" : host
        return port == scheme.defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// The URL written back: `https://example.com/.ssekeeper/probe?x=1`.
    public var description: String {
        "\(scheme.rawValue)://\(hostField)\(path)" + (query.map { "?\($0)" } ?? "")
    }

    /// The request target for a probe stream asking for `silence`: the path, the user's query without any
    /// `silence` or `busy` parameter of its own, then `busy=<ms>ms` when `busy` is not zero, then
    /// `silence=<ms>ms` (written in milliseconds, which the probe endpoint reads with the config's duration syntax).
    public func target(silence: Duration, busy: Duration = .zero) -> String {
        let ours = ["silence", "busy"]
        let kept = (query ?? "").split(separator: "&").filter { pair in
            !ours.contains { pair == $0 || pair.hasPrefix("\($0)=") }
        }
        var added: [Substring] = []
        if busy > .zero { added.append("busy=\(max(1, TimeAmount(busy).milliseconds))ms") }
        added.append("silence=\(max(1, TimeAmount(silence).milliseconds))ms")
        return path + "?" + (kept + added).joined(separator: "&")
    }

    /// Creates a URL from its parts; no validation (`parse(_:)` does that).
    public init(scheme: Scheme, host: String, port: UInt16? = nil, path: String = "/", query: String? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
        self.path = path
        self.query = query
    }

    /// Parses `text`, e.g. `https://lb.example.com/.ssekeeper/probe` or `http://[::1]:8080/probe?token=x`.
    public static func parse(_ text: String) throws(ProbeURLError) -> ProbeURL {
        guard text.utf8.count <= maxLength else { throw ProbeURLError("the URL is longer than \(maxLength) bytes") }
        guard !text.isEmpty, text.utf8.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw ProbeURLError("the URL must be non-empty visible ASCII (percent-encode anything else)")
        }
        guard let separator = text.firstRange(of: "://") else {
            throw ProbeURLError("the URL needs a scheme: http:// or https://")
        }
        guard let scheme = Scheme(rawValue: text[..<separator.lowerBound].lowercased()) else {
            throw ProbeURLError("unsupported scheme \"\(text[..<separator.lowerBound])\": use http:// or https://")
        }
        var rest = text[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let pathAndQuery = rest[authorityEnd...]
        guard !authority.contains("@") else {
            throw ProbeURLError("credentials in the URL (user@host) are not supported")
        }
        let (host, port) = try hostAndPort(authority, scheme: scheme)
        var path = Substring("/")
        var query: String?
        if let questionMark = pathAndQuery.firstIndex(of: "?") {
            if questionMark != pathAndQuery.startIndex { path = pathAndQuery[..<questionMark] }
            let value = pathAndQuery[pathAndQuery.index(after: questionMark)...]
            query = value.isEmpty ? nil : String(value)
        } else if !pathAndQuery.isEmpty {
            path = pathAndQuery
        }
        return ProbeURL(scheme: scheme, host: host, port: port, path: String(path), query: query)
    }

    /// Splits `host[:port]` or `[v6][:port]`, checking the host with the Host-field grammar (RFC 3986 §3.2.2).
    private static func hostAndPort(_ authority: Substring, scheme: Scheme) throws(ProbeURLError) -> (String, UInt16) {
        guard !authority.isEmpty else { throw ProbeURLError("the URL has no host") }
        var authorityText = String(authority)
        let valid = authorityText.withUTF8 { HTTPSyntax.isValidHostAndPort($0) }
        guard valid else { throw ProbeURLError("invalid host \"\(authority.prefix(100))\"") }
        let host: Substring
        let portText: Substring?
        if authority.first == "[" {
            let close = authority.firstIndex(of: "]")!
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            portText = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
            portText = nil
        }
        if authority.first == "[", host.first == "v" || host.first == "V" {
            throw ProbeURLError("IPvFuture addresses are not supported")
        }
        guard !host.contains("%") else { throw ProbeURLError("percent-encoded host names are not supported") }
        guard let portText, !portText.isEmpty else { return (String(host), scheme.defaultPort) }
        guard portText.count <= 5, let port = UInt16(portText), port > 0 else {
            throw ProbeURLError("invalid port \"\(portText.prefix(20))\" (use 1-65535)")
        }
        return (String(host), port)
    }
}

/// Why a probe URL was refused; the message is printed after `ssekeeper probe: `.
public struct ProbeURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, for a person.
    public var message: String
    /// Creates an error with `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
