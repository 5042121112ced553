import Glibc
import SSEKeeperCore

/// The TLS server context (`SSL_CTX`) of the `tls` listeners: the certificate chain and key of one configuration,
/// TLS 1.2 at least, the library's secure defaults otherwise, and ALPN.
///
/// One per `ProxyContext`, so a reload (SIGHUP) reads the files again into a new context for new connections,
/// while each open connection's `TLSSession` keeps the context it was accepted with alive. Sessions are created on
/// any loop: after setup, OpenSSL's `SSL_CTX` is safe to share between threads (`SSL_new` only takes a reference).
final class TLSServerContext: @unchecked Sendable {
    /// A TLS listener could not be set up: libssl is missing, or a file does not load, or the key does not match.
    struct SetupError: Error, Sendable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The application protocols a context offers in ALPN (RFC 7301), most preferred first: `h2` then `http/1.1`
    /// when `http2` is on (RFC 9113 §3.2), `http/1.1` alone when off. The selection callback picks the first of
    /// these the client offers (server preference). A client that chose `h2` starts with the HTTP/2
    /// connection preface, which is what `HTTP1Connection` looks for to hand the connection to `HTTP2Connection`.
    static func applicationProtocols(http2: Bool) -> [String] {
        http2 ? ["h2", "http/1.1"] : ["http/1.1"]
    }

    /// What this context offers in ALPN, most preferred first (`applicationProtocols(http2:)`).
    let applicationProtocols: [String]
    let library: TLSLibrary
    let functions: TLSServerFunctions
    private let context: OpaquePointer
    /// `applicationProtocols` in ALPN wire format (length-prefixed), read by the selection callback through its
    /// `arg`; freed with the context.
    private let alpnWire: UnsafeMutableBufferPointer<UInt8>

    /// libssl, loaded once per process (`dlopen` is reference-counted, but one lookup of every symbol suffices).
    private static let sharedLibrary = loadLibrary()

    /// Opens libssl from `candidates` for the `tls` listeners; the failure says what to install or change.
    static func loadLibrary(candidates: [String] = TLSLibrary.candidates) -> Result<TLSLibrary, SetupError> {
        do throws(ProbeFailure) {
            return .success(try TLSLibrary.load(candidates: candidates, neededBy: "listen ... tls",
                                                otherwise: "or take tls off the listen lines"))
        } catch {
            return .failure(SetupError(message: error.message))
        }
    }

    /// Loads `settings`' files into a new server context offering `h2` in ALPN when `http2` (`Limits.http2`); a
    /// `SetupError` saying what to fix otherwise.
    convenience init(settings: TLSSettings, http2: Bool) throws(SetupError) {
        let library: TLSLibrary
        switch Self.sharedLibrary {
        case .success(let loaded): library = loaded
        case .failure(let failure):
            throw failure
        }
        guard let certificate = settings.certificatePath, let key = settings.keyPath else {
            throw SetupError(message: "listen ... tls needs tls_certificate and tls_certificate_key")
        }
        try self.init(library: library, certificatePath: certificate, keyPath: key,
                      applicationProtocols: Self.applicationProtocols(http2: http2))
    }

    /// A server context presenting `certificatePath` (PEM chain, leaf first) with `keyPath` (its PEM key), offering
    /// `applicationProtocols` in ALPN (each 1...255 bytes, most preferred first).
    init(library: TLSLibrary, certificatePath: String, keyPath: String, applicationProtocols: [String]) throws(SetupError) {
        guard let functions = library.server else {
            throw SetupError(message: "the TLS library lacks \(library.serverMissing.joined(separator: ", ")): it cannot serve TLS")
        }
        self.library = library
        self.functions = functions
        self.applicationProtocols = applicationProtocols
        var wire: [UInt8] = []
        for name in applicationProtocols {
            precondition((1...255).contains(name.utf8.count), "an ALPN protocol name is 1 to 255 bytes (RFC 7301 §3.1)")
            wire.append(UInt8(name.utf8.count))
            wire += name.utf8
        }
        wire.append(0)  // the end, for the callback
        alpnWire = .allocate(capacity: wire.count)
        _ = alpnWire.initialize(from: wire)
        library.errorClear()
        guard let context = library.contextNew(functions.serverMethod()) else {
            alpnWire.deallocate()
            throw SetupError(message: "cannot create a TLS server context: \(library.drainErrors())")
        }
        self.context = context
        // From here on a throw deinitializes self, which frees the context and the ALPN list.
        guard functions.contextCtrl(context, TLSServerFunctions.controlSetMinProtocolVersion, TLSServerFunctions.tls12Version, nil) == 1 else {
            throw SetupError(message: "cannot require TLS 1.2 or later: \(library.drainErrors())")
        }
        _ = functions.contextCtrl(context, TLSServerFunctions.controlMode, TLSServerFunctions.modeNonBlockingStreams, nil)
        if let options = library.contextSetOptions { _ = options(context, TLSLibrary.optionIgnoreUnexpectedEOF) }
        guard functions.useCertificateChainFile(context, certificatePath) == 1 else {
            throw SetupError(message: "tls_certificate \(certificatePath): cannot load it: \(Self.reason(library.drainErrors(), path: certificatePath))")
        }
        // OpenSSL compares the key with the certificate as it loads it ("key values mismatch"), and again below.
        let mismatch = "tls_certificate_key \(keyPath) does not match tls_certificate \(certificatePath)"
        guard functions.usePrivateKeyFile(context, keyPath, TLSServerFunctions.fileTypePEM) == 1 else {
            let detail = library.drainErrors()
            if detail.contains("key values mismatch") { throw SetupError(message: "\(mismatch): \(detail)") }
            throw SetupError(message: "tls_certificate_key \(keyPath): cannot load it: \(Self.reason(detail, path: keyPath))")
        }
        guard functions.checkPrivateKey(context) == 1 else {
            throw SetupError(message: "\(mismatch): \(library.drainErrors())")
        }
        functions.setALPNSelect(context, Self.selectApplicationProtocol, UnsafeMutableRawPointer(alpnWire.baseAddress))
    }

    /// The library's reason, or the file's own problem (missing, unreadable) when that is what it was.
    private static func reason(_ detail: String, path: String) -> String {
        if access(path, R_OK) != 0 { return SocketError.message(errno: errno) }
        return detail.isEmpty ? "not a PEM file" : detail
    }

    /// A server session on the accepted socket `fd`; nil (with the library's reason logged by the caller) when
    /// the library refuses.
    func session(fd: Int32) throws(SetupError) -> TLSSession {
        library.errorClear()
        guard let ssl = library.new(context) else {
            throw SetupError(message: "cannot create a TLS session: \(library.drainErrors())")
        }
        let session = TLSSession(library: library, ssl: ssl, serverContext: self)
        guard library.setFD(ssl, fd) == 1 else { throw SetupError(message: "SSL_set_fd failed: \(library.drainErrors())") }
        return session
    }

    /// The ALPN selection callback: the first of our protocols (in `arg`, wire format) that the client offers;
    /// no ALPN at all (`NOACK`, the handshake goes on) when none is.
    private static let selectApplicationProtocol: TLSServerFunctions.ALPNSelectCallback = { _, out, outLength, offered, offeredLength, arg in
        guard let out, let outLength, let offered, let arg else { return TLSServerFunctions.alpnNoAcknowledgement }
        let ours = arg.assumingMemoryBound(to: UInt8.self)
        var oursIndex = 0
        while ours[oursIndex] != 0 {
            let length = Int(ours[oursIndex])
            var index = 0
            while index < Int(offeredLength) {
                let candidate = Int(offered[index])
                if candidate == length, index + 1 + length <= Int(offeredLength),
                   memcmp(offered + index + 1, ours + oursIndex + 1, length) == 0 {
                    out.pointee = offered + index + 1
                    outLength.pointee = UInt8(length)
                    return TLSServerFunctions.alpnOK
                }
                index += 1 + candidate
            }
            oursIndex += 1 + length
        }
        return TLSServerFunctions.alpnNoAcknowledgement
    }

    deinit {
        library.contextFree(context)
        alpnWire.deallocate()
    }
}
