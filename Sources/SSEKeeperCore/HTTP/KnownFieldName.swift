/// The field names the proxy acts on, recognized once per field line (when the line is parsed, or the field made)
/// so lookups and the builders compare an enum instead of comparing each name against every rule (names compare
/// case-insensitively, RFC 9110 §5.1).
enum KnownFieldName: Sendable, Equatable, Hashable {
    case accept, acceptEncoding, cacheControl, connection, contentEncoding, contentLength, contentType, host
    case keepAlive, lastEventID, proxyConnection, te, trailer, transferEncoding, upgrade, xAccelBuffering
    case xForwardedFor, xForwardedHost, xForwardedProto

    /// The known name `bytes` spell in any case, or nil.
    init?(bytes: UnsafeRawBufferPointer) {
        guard let found = Self.recognize(bytes) else { return nil }
        self = found.name
    }

    /// The known name `bytes` spell in any case, and whether they spell it exactly as `spelling` (then the literal
    /// can stand for the bytes); nil for any other name. Dispatches on the length first, so an unknown name costs
    /// at most three comparisons, each ending at its first differing word.
    static func recognize(_ bytes: UnsafeRawBufferPointer) -> (name: KnownFieldName, exact: Bool)? {
        switch bytes.count {
        case 2: pick(bytes, .te)
        case 4: pick(bytes, .host)
        case 6: pick(bytes, .accept)
        case 7: pick(bytes, .trailer, .upgrade)
        case 10: pick(bytes, .connection, .keepAlive)
        case 12: pick(bytes, .contentType)
        case 13: pick(bytes, .cacheControl, .lastEventID)
        case 14: pick(bytes, .contentLength)
        case 15: pick(bytes, .acceptEncoding, .xForwardedFor)
        case 16: pick(bytes, .contentEncoding, .proxyConnection, .xForwardedHost)
        case 17: pick(bytes, .transferEncoding, .xForwardedProto, .xAccelBuffering)
        default: nil
        }
    }

    /// The first of up to three candidates (of `bytes`' length) that `bytes` spell in any case.
    private static func pick(_ bytes: UnsafeRawBufferPointer, _ first: KnownFieldName, _ second: KnownFieldName? = nil,
                             _ third: KnownFieldName? = nil) -> (name: KnownFieldName, exact: Bool)? {
        if let found = first.recognized(in: bytes) { return found }
        if let found = second?.recognized(in: bytes) { return found }
        return third?.recognized(in: bytes)
    }

    /// This name and whether `bytes` spell it exactly, when they spell it in any case.
    private func recognized(in bytes: UnsafeRawBufferPointer) -> (name: KnownFieldName, exact: Bool)? {
        var spelling = spelling
        switch spelling.withUTF8({ HTTPSyntax.compareIgnoringCase(bytes.assumingMemoryBound(to: UInt8.self), $0) }) {
        case .exact: return (self, true)
        case .ignoringCase: return (self, false)
        case .different: return nil
        }
    }

    /// The known name `name` spells in any case, or nil.
    init?(_ name: String) {
        var name = name
        guard let known = name.withUTF8({ KnownFieldName(bytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = known
    }

    /// The name as registered (RFC 9110, RFC 9112, the WHATWG SSE section, nginx's `X-Accel-Buffering`): what
    /// ssekeeper writes when it adds the field. A literal, so a parsed name spelled exactly so needs no
    /// allocation of its own.
    var spelling: String {
        switch self {
        case .accept: "Accept"
        case .acceptEncoding: "Accept-Encoding"
        case .cacheControl: "Cache-Control"
        case .connection: "Connection"
        case .contentEncoding: "Content-Encoding"
        case .contentLength: "Content-Length"
        case .contentType: "Content-Type"
        case .host: "Host"
        case .keepAlive: "Keep-Alive"
        case .lastEventID: "Last-Event-ID"
        case .proxyConnection: "Proxy-Connection"
        case .te: "TE"
        case .trailer: "Trailer"
        case .transferEncoding: "Transfer-Encoding"
        case .upgrade: "Upgrade"
        case .xAccelBuffering: "X-Accel-Buffering"
        case .xForwardedFor: "X-Forwarded-For"
        case .xForwardedHost: "X-Forwarded-Host"
        case .xForwardedProto: "X-Forwarded-Proto"
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
