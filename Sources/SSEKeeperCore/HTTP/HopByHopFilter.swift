/// Decides which fields of a message stay behind at the proxy (RFC 9110 §7.6.1).
///
/// Removed: `Connection` and every field it names, `Keep-Alive`, `TE`, `Trailer`, `Upgrade`,
/// `Proxy-Connection`, and the framing fields `Transfer-Encoding` and `Content-Length`, which the builders
/// re-add to match the framing they choose. `Host` is never removed, even when `Connection` names it: without
/// it the upstream could not route the request.
struct HopByHopFilter {
    /// The field names listed in `Connection`, as received. Strings rather than substrings: besides being
    /// small (inline) for common names, this sidesteps a Swift 6.3.1 `-O` crash (CopyPropagation ownership
    /// verifier) seen when `removes` compared substrings after inlining into `ClientResponseBuilder`.
    private let connectionOptions: [String]

    init(_ headers: HTTPHeaders) {
        connectionOptions = headers.values(.connection).flatMap { HTTPSyntax.listElements($0).map(String.init) }
    }

    /// Whether the field named `name`, recognized as `known`, must not be forwarded.
    /// Not inlined: inlined into `ClientResponseBuilder.appendEndToEndFields`, beside the noncopyable
    /// `HeadBytesWriter`, it crashed Swift 6.3.1's `-O` (the same CopyPropagation ownership verifier as above).
    @inline(never)
    func removes(_ name: String, known: KnownFieldName?) -> Bool {
        if let known, known.isAlwaysRemoved { return true }
        if connectionOptions.isEmpty || known == .host { return false }
        for option in connectionOptions where HTTPSyntax.equalsIgnoringCase(option, name) {
            return true
        }
        return false
    }
}
