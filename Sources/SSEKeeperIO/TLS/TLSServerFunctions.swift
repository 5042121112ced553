/// The libssl functions TLS listeners need beyond the probe's (OpenSSL 3 `ssl.h`), each cast to its C signature,
/// with the constants behind the macros they replace. Looked up by `TLSLibrary.load()`; nil there when one is
/// missing.
struct TLSServerFunctions: @unchecked Sendable {
    typealias UseFileFunction = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    typealias UseTypedFileFunction = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32
    /// `SSL_CTX_alpn_select_cb_func`: (ssl, out, outlen, in, inlen, arg) -> `SSL_TLSEXT_ERR_*`.
    typealias ALPNSelectCallback = @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?) -> Int32
    typealias SetALPNSelectFunction = @convention(c) (OpaquePointer?, ALPNSelectCallback?, UnsafeMutableRawPointer?) -> Void

    /// `SSL_CTRL_SET_MIN_PROTO_VERSION` (`SSL_CTX_set_min_proto_version` is `SSL_CTX_ctrl(ctx, 123, version, NULL)`).
    static let controlSetMinProtocolVersion: Int32 = 123
    /// `TLS1_2_VERSION`.
    static let tls12Version = 0x0303
    /// `SSL_CTRL_MODE` (`SSL_CTX_set_mode` is `SSL_CTX_ctrl(ctx, 33, mode, NULL)`).
    static let controlMode: Int32 = 33
    /// `SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS`: a write
    /// returns after each record sent, may be retried from a copy of the same bytes, and an idle connection gives
    /// its read and write buffers back (about 34 KiB each: idle SSE streams are the common case).
    static let modeNonBlockingStreams = 0x1 | 0x2 | 0x10
    /// `SSL_FILETYPE_PEM`.
    static let fileTypePEM: Int32 = 1
    /// `SSL_TLSEXT_ERR_OK`, `SSL_TLSEXT_ERR_NOACK` (tls1.h).
    static let alpnOK: Int32 = 0
    static let alpnNoAcknowledgement: Int32 = 3

    let serverMethod: TLSLibrary.MethodFunction
    let contextCtrl: TLSLibrary.CtrlFunction
    let useCertificateChainFile: UseFileFunction
    let usePrivateKeyFile: UseTypedFileFunction
    let checkPrivateKey: TLSLibrary.ContextFunction
    let setALPNSelect: SetALPNSelectFunction
    let accept: TLSLibrary.ConnectFunction
    let shutdown: TLSLibrary.ConnectFunction

    /// Nil unless every function was found.
    init?(serverMethod: TLSLibrary.MethodFunction?, contextCtrl: TLSLibrary.CtrlFunction?,
          useCertificateChainFile: UseFileFunction?, usePrivateKeyFile: UseTypedFileFunction?,
          checkPrivateKey: TLSLibrary.ContextFunction?, setALPNSelect: SetALPNSelectFunction?,
          accept: TLSLibrary.ConnectFunction?, shutdown: TLSLibrary.ConnectFunction?) {
        guard let serverMethod, let contextCtrl, let useCertificateChainFile, let usePrivateKeyFile, let checkPrivateKey,
              let setALPNSelect, let accept, let shutdown else { return nil }
        self.serverMethod = serverMethod
        self.contextCtrl = contextCtrl
        self.useCertificateChainFile = useCertificateChainFile
        self.usePrivateKeyFile = usePrivateKeyFile
        self.checkPrivateKey = checkPrivateKey
        self.setALPNSelect = setALPNSelect
        self.accept = accept
        self.shutdown = shutdown
    }
}
