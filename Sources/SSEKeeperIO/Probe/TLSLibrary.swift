import Glibc
import SSEKeeperCore

/// The system's OpenSSL (libssl 3, or whatever `libssl.so` is), loaded at run time with `dlopen` so ssekeeper
/// needs neither headers nor a package to speak TLS, and runs without libssl when nobody probes https.
///
/// Only the functions the probe client and the TLS listeners need are looked up, each cast to its C signature
/// (OpenSSL 3 `ssl.h`, `err.h`). Macros are spelled out: `SSL_set_tlsext_host_name(ssl, name)` is
/// `SSL_ctrl(ssl, 55, 0, name)`. Optional symbols (`SSL_CTX_set_options`, verification details) are used when
/// present; the server side (`server`) is nil when any of its functions is missing, and `TLSServerContext` says so.
struct TLSLibrary: @unchecked Sendable {
    typealias MethodFunction = @convention(c) () -> OpaquePointer?
    typealias ContextNewFunction = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias ContextFunction = @convention(c) (OpaquePointer?) -> Int32
    typealias LoadVerifyLocationsFunction = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    typealias SetVerifyFunction = @convention(c) (OpaquePointer?, Int32, OpaquePointer?) -> Void
    typealias SetOptionsFunction = @convention(c) (OpaquePointer?, UInt64) -> UInt64
    typealias NewFunction = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias SetFDFunction = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias CtrlFunction = @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    typealias SetHostFunction = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    typealias GetParamFunction = @convention(c) (OpaquePointer?) -> OpaquePointer?
    typealias SetIPFunction = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    typealias ConnectFunction = @convention(c) (OpaquePointer?) -> Int32
    typealias ReadFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32) -> Int32
    typealias WriteFunction = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int32) -> Int32
    typealias GetErrorFunction = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias FreeFunction = @convention(c) (OpaquePointer?) -> Void
    typealias ErrorGetFunction = @convention(c) () -> UInt
    typealias ErrorStringFunction = @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void
    typealias ErrorClearFunction = @convention(c) () -> Void
    typealias VerifyResultFunction = @convention(c) (OpaquePointer?) -> Int
    typealias VerifyErrorStringFunction = @convention(c) (Int) -> UnsafePointer<CChar>?

    /// `SSL_VERIFY_NONE`, `SSL_VERIFY_PEER` (ssl.h).
    static let verifyNone: Int32 = 0
    static let verifyPeer: Int32 = 1
    /// `SSL_CTRL_SET_TLSEXT_HOSTNAME` and `TLSEXT_NAMETYPE_host_name` (ssl.h, tls1.h).
    static let controlSetHostName: Int32 = 55
    static let nameTypeHostName = 0
    /// `SSL_OP_IGNORE_UNEXPECTED_EOF` (OpenSSL 3): an EOF without close_notify reads as a clean close.
    static let optionIgnoreUnexpectedEOF: UInt64 = 1 << 7
    /// `SSL_get_error` results (ssl.h).
    static let errorSSL: Int32 = 1
    static let errorWantRead: Int32 = 2
    static let errorWantWrite: Int32 = 3
    static let errorSyscall: Int32 = 5
    static let errorZeroReturn: Int32 = 6

    /// The library names tried, in order.
    static let candidates = ["libssl.so.3", "libssl.so"]

    let clientMethod: MethodFunction
    let contextNew: ContextNewFunction
    let contextSetDefaultVerifyPaths: ContextFunction
    let contextLoadVerifyLocations: LoadVerifyLocationsFunction
    let contextSetVerify: SetVerifyFunction
    let contextSetOptions: SetOptionsFunction?
    let contextFree: FreeFunction
    let new: NewFunction
    let setFD: SetFDFunction
    let ctrl: CtrlFunction
    let set1Host: SetHostFunction
    let get0Param: GetParamFunction?
    let paramSet1IPASCII: SetIPFunction?
    let connect: ConnectFunction
    let read: ReadFunction
    let write: WriteFunction
    let getError: GetErrorFunction
    let free: FreeFunction
    let errorGet: ErrorGetFunction
    let errorString: ErrorStringFunction
    let errorClear: ErrorClearFunction
    let verifyResult: VerifyResultFunction?
    let verifyErrorString: VerifyErrorStringFunction?
    /// The functions TLS listeners need; nil when the library lacks one (`serverMissing` names them).
    private(set) var server: TLSServerFunctions?
    /// The server functions the library lacks, empty when `server` is set.
    private(set) var serverMissing: [String] = []

    /// Loads the library (the first of `candidates` that opens) and every required symbol; a `.tls` failure saying
    /// what is missing otherwise, worded for who needs it (`neededBy`: `https://` for the probe, `listen ... tls`
    /// for the server) and what else the user can do (`otherwise`).
    static func load(candidates: [String] = candidates, neededBy: String = "https://",
                     otherwise: String = "or probe over http://") throws(ProbeFailure) -> TLSLibrary {
        var handle: UnsafeMutableRawPointer?
        var reasons: [String] = []
        for name in candidates {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
            reasons.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle else {
            throw ProbeFailure(.tls, "\(neededBy) needs the system's OpenSSL library (libssl.so.3), which could not be "
                + "loaded (\(reasons.joined(separator: "; "))): install it (Debian/Ubuntu: apt-get install libssl3) "
                + otherwise)
        }
        var missing: [String] = []
        func symbol<F>(_ name: String, as type: F.Type, optional: Bool = false) -> F? {
            guard let pointer = dlsym(handle, name) else {
                if !optional { missing.append(name) }
                return nil
            }
            return unsafeBitCast(pointer, to: type)
        }
        let library = TLSLibrary(
            clientMethod: symbol("TLS_client_method", as: MethodFunction.self),
            contextNew: symbol("SSL_CTX_new", as: ContextNewFunction.self),
            contextSetDefaultVerifyPaths: symbol("SSL_CTX_set_default_verify_paths", as: ContextFunction.self),
            contextLoadVerifyLocations: symbol("SSL_CTX_load_verify_locations", as: LoadVerifyLocationsFunction.self),
            contextSetVerify: symbol("SSL_CTX_set_verify", as: SetVerifyFunction.self),
            contextSetOptions: symbol("SSL_CTX_set_options", as: SetOptionsFunction.self, optional: true),
            contextFree: symbol("SSL_CTX_free", as: FreeFunction.self),
            new: symbol("SSL_new", as: NewFunction.self),
            setFD: symbol("SSL_set_fd", as: SetFDFunction.self),
            ctrl: symbol("SSL_ctrl", as: CtrlFunction.self),
            set1Host: symbol("SSL_set1_host", as: SetHostFunction.self),
            get0Param: symbol("SSL_get0_param", as: GetParamFunction.self, optional: true),
            paramSet1IPASCII: symbol("X509_VERIFY_PARAM_set1_ip_asc", as: SetIPFunction.self, optional: true),
            connect: symbol("SSL_connect", as: ConnectFunction.self),
            read: symbol("SSL_read", as: ReadFunction.self),
            write: symbol("SSL_write", as: WriteFunction.self),
            getError: symbol("SSL_get_error", as: GetErrorFunction.self),
            free: symbol("SSL_free", as: FreeFunction.self),
            errorGet: symbol("ERR_get_error", as: ErrorGetFunction.self),
            errorString: symbol("ERR_error_string_n", as: ErrorStringFunction.self),
            errorClear: symbol("ERR_clear_error", as: ErrorClearFunction.self),
            verifyResult: symbol("SSL_get_verify_result", as: VerifyResultFunction.self, optional: true),
            verifyErrorString: symbol("X509_verify_cert_error_string", as: VerifyErrorStringFunction.self, optional: true))
        guard var library, missing.isEmpty else {
            throw ProbeFailure(.tls, "the TLS library lacks \(missing.joined(separator: ", ")): it is not a usable OpenSSL")
        }
        let required = missing.count
        library.server = TLSServerFunctions(
            serverMethod: symbol("TLS_server_method", as: MethodFunction.self),
            contextCtrl: symbol("SSL_CTX_ctrl", as: CtrlFunction.self),
            useCertificateChainFile: symbol("SSL_CTX_use_certificate_chain_file", as: TLSServerFunctions.UseFileFunction.self),
            usePrivateKeyFile: symbol("SSL_CTX_use_PrivateKey_file", as: TLSServerFunctions.UseTypedFileFunction.self),
            checkPrivateKey: symbol("SSL_CTX_check_private_key", as: ContextFunction.self),
            setALPNSelect: symbol("SSL_CTX_set_alpn_select_cb", as: TLSServerFunctions.SetALPNSelectFunction.self),
            accept: symbol("SSL_accept", as: ConnectFunction.self),
            shutdown: symbol("SSL_shutdown", as: ConnectFunction.self))
        library.serverMissing = Array(missing.dropFirst(required))
        return library
    }

    /// Every error queued by the library, oldest first, joined with `; ` (and the queue emptied).
    func drainErrors() -> String {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = errorGet(), code != 0, messages.count < 8 {
            errorString(code, &buffer, buffer.count)
            messages.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        errorClear()
        return messages.joined(separator: "; ")
    }
}

extension TLSLibrary {
    /// Memberwise with optionals, so `load()` can report every missing symbol at once.
    fileprivate init?(
        clientMethod: MethodFunction?, contextNew: ContextNewFunction?, contextSetDefaultVerifyPaths: ContextFunction?,
        contextLoadVerifyLocations: LoadVerifyLocationsFunction?, contextSetVerify: SetVerifyFunction?,
        contextSetOptions: SetOptionsFunction?, contextFree: FreeFunction?, new: NewFunction?, setFD: SetFDFunction?,
        ctrl: CtrlFunction?, set1Host: SetHostFunction?, get0Param: GetParamFunction?, paramSet1IPASCII: SetIPFunction?,
        connect: ConnectFunction?, read: ReadFunction?, write: WriteFunction?, getError: GetErrorFunction?,
        free: FreeFunction?, errorGet: ErrorGetFunction?, errorString: ErrorStringFunction?,
        errorClear: ErrorClearFunction?, verifyResult: VerifyResultFunction?, verifyErrorString: VerifyErrorStringFunction?
    ) {
        guard let clientMethod, let contextNew, let contextSetDefaultVerifyPaths, let contextLoadVerifyLocations,
              let contextSetVerify, let contextFree, let new, let setFD, let ctrl, let set1Host, let connect, let read,
              let write, let getError, let free, let errorGet, let errorString, let errorClear else { return nil }
        self.clientMethod = clientMethod
        self.contextNew = contextNew
        self.contextSetDefaultVerifyPaths = contextSetDefaultVerifyPaths
        self.contextLoadVerifyLocations = contextLoadVerifyLocations
        self.contextSetVerify = contextSetVerify
        self.contextSetOptions = contextSetOptions
        self.contextFree = contextFree
        self.new = new
        self.setFD = setFD
        self.ctrl = ctrl
        self.set1Host = set1Host
        self.get0Param = get0Param
        self.paramSet1IPASCII = paramSet1IPASCII
        self.connect = connect
        self.read = read
        self.write = write
        self.getError = getError
        self.free = free
        self.errorGet = errorGet
        self.errorString = errorString
        self.errorClear = errorClear
        self.verifyResult = verifyResult
        self.verifyErrorString = verifyErrorString
    }
}
