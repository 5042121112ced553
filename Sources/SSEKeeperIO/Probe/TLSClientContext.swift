import Glibc
import SSEKeeperCore

/// A TLS client context (`SSL_CTX`) for probe streams: the trust settings they share.
///
/// Verification is on by default, against the system's CA store (`SSL_CTX_set_default_verify_paths`) plus
/// `caFile` when given; `insecure` turns it off (`SSL_VERIFY_NONE`). Used on one thread only.
final class TLSClientContext {
    let library: TLSLibrary
    private let context: OpaquePointer
    /// Whether peers' certificates are verified.
    let verifies: Bool

    /// Creates the context; a `.tls` failure when the library refuses, or `caFile` cannot be loaded.
    init(library: TLSLibrary, caFile: String?, insecure: Bool) throws(ProbeFailure) {
        self.library = library
        library.errorClear()
        guard let context = library.contextNew(library.clientMethod()) else {
            throw ProbeFailure(.tls, "cannot create a TLS context: \(library.drainErrors())")
        }
        self.context = context
        verifies = !insecure
        if let options = library.contextSetOptions { _ = options(context, TLSLibrary.optionIgnoreUnexpectedEOF) }
        if insecure {
            library.contextSetVerify(context, TLSLibrary.verifyNone, nil)
            return
        }
        _ = library.contextSetDefaultVerifyPaths(context)
        if let caFile {
            guard library.contextLoadVerifyLocations(context, caFile, nil) == 1 else {
                // No SSL_CTX_free here: a class that throws after initializing every property is deinitialized.
                let detail = library.drainErrors()
                throw ProbeFailure(.tls, "cannot load CA certificates from \(caFile): \(detail.isEmpty ? "not a PEM file" : detail)")
            }
        }
        library.contextSetVerify(context, TLSLibrary.verifyPeer, nil)
    }

    /// A client session on the connected socket `fd` for `host`: SNI (for names only, RFC 6066 §3) and
    /// verification of the certificate against the name or address (RFC 6125).
    func session(fd: Int32, host: String, isIPLiteral: Bool) throws(ProbeFailure) -> TLSSession {
        library.errorClear()
        guard let ssl = library.new(context) else {
            throw ProbeFailure(.tls, "cannot create a TLS session: \(library.drainErrors())")
        }
        let session = TLSSession(library: library, ssl: ssl)
        guard library.setFD(ssl, fd) == 1 else { throw ProbeFailure(.tls, "SSL_set_fd failed: \(library.drainErrors())") }
        if !isIPLiteral {
            _ = host.withCString { library.ctrl(ssl, TLSLibrary.controlSetHostName, TLSLibrary.nameTypeHostName, UnsafeMutableRawPointer(mutating: $0)) }
        }
        if verifies {
            let bound: Bool
            if isIPLiteral, let get0Param = library.get0Param, let setIP = library.paramSet1IPASCII {
                bound = setIP(get0Param(ssl), host) == 1
            } else {
                bound = library.set1Host(ssl, host) == 1
            }
            guard bound else { throw ProbeFailure(.tls, "cannot set the expected TLS peer \(host): \(library.drainErrors())") }
        }
        return session
    }

    deinit { library.contextFree(context) }
}
