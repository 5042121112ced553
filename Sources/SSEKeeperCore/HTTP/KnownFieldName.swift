/// The field names the proxy acts on, recognized once per field line so the builders can `switch` instead of
/// comparing each name against every rule (names compare case-insensitively, RFC 9110 §5.1).
enum KnownFieldName: Sendable, Equatable {
    case accept, acceptEncoding, cacheControl, connection, contentLength, contentType, host, keepAlive
    case proxyConnection, te, trailer, transferEncoding, upgrade, xAccelBuffering
    case xForwardedFor, xForwardedHost, xForwardedProto

    /// The known name `name` spells in any case, or nil. Dispatches on the length first, so an unknown name
    /// costs at most three comparisons.
    init?(_ name: String) {
        switch name.utf8.count {
        case 2 where HTTPSyntax.equalsIgnoringCase(name, "TE"): self = .te
        case 4 where HTTPSyntax.equalsIgnoringCase(name, "Host"): self = .host
        case 6 where HTTPSyntax.equalsIgnoringCase(name, "Accept"): self = .accept
        case 7 where HTTPSyntax.equalsIgnoringCase(name, "Trailer"): self = .trailer
        case 7 where HTTPSyntax.equalsIgnoringCase(name, "Upgrade"): self = .upgrade
        case 10 where HTTPSyntax.equalsIgnoringCase(name, "Connection"): self = .connection
        case 10 where HTTPSyntax.equalsIgnoringCase(name, "Keep-Alive"): self = .keepAlive
        case 12 where HTTPSyntax.equalsIgnoringCase(name, "Content-Type"): self = .contentType
        case 13 where HTTPSyntax.equalsIgnoringCase(name, "Cache-Control"): self = .cacheControl
        case 14 where HTTPSyntax.equalsIgnoringCase(name, "Content-Length"): self = .contentLength
        case 15 where HTTPSyntax.equalsIgnoringCase(name, "Accept-Encoding"): self = .acceptEncoding
        case 15 where HTTPSyntax.equalsIgnoringCase(name, "X-Forwarded-For"): self = .xForwardedFor
        case 16 where HTTPSyntax.equalsIgnoringCase(name, "Proxy-Connection"): self = .proxyConnection
        case 16 where HTTPSyntax.equalsIgnoringCase(name, "X-Forwarded-Host"): self = .xForwardedHost
        case 17 where HTTPSyntax.equalsIgnoringCase(name, "Transfer-Encoding"): self = .transferEncoding
        case 17 where HTTPSyntax.equalsIgnoringCase(name, "X-Forwarded-Proto"): self = .xForwardedProto
        case 17 where HTTPSyntax.equalsIgnoringCase(name, "X-Accel-Buffering"): self = .xAccelBuffering
        default: return nil
        }
    }

    /// Hop-by-hop whatever `Connection` lists (RFC 9110 §7.6.1), plus the framing fields the builders re-add.
    var isAlwaysRemoved: Bool {
        switch self {
        case .connection, .keepAlive, .te, .trailer, .upgrade, .proxyConnection, .transferEncoding, .contentLength:
            return true
        default:
            return false
        }
    }
}
