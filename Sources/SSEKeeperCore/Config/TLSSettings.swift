/// The files a TLS listener serves (`tls_certificate FILE;`, `tls_certificate_key FILE;`), both PEM.
///
/// Only paths: the files are read by the shell (`ssekeeper check`, start and each reload), never by the core.
/// The parser requires both when a `listen` has the `tls` flag; they are unused otherwise.
public struct TLSSettings: Sendable, Equatable {
    /// The server certificate followed by its intermediates (a full chain, leaf first), PEM.
    public var certificatePath: String?
    /// The private key of the leaf certificate, PEM, unencrypted.
    public var keyPath: String?

    public init(certificatePath: String? = nil, keyPath: String? = nil) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
