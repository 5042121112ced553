/// `admin_listen` and `access_log`, with the checks that keep the admin endpoint and the log file usable.
extension ConfigBuilder {
    /// `admin_listen HOST:PORT|off;`: the admin endpoint's address (its overlap with a `listen` is checked in
    /// `finish()`, wherever the two stand), or `off`.
    mutating func applyAdminListen(_ argument: ConfigArgument) {
        if argument.text == "off" {
            observe.adminListen = nil
            return
        }
        switch ConfigValue.parseListenAddress(argument.text) {
        case .failure(let problem): report("admin_listen: \(problem.message)", at: argument.token)
        case .success(let address):
            observe.adminListen = address
            adminListenToken = argument.token
        }
    }

    /// `access_log PATH|stderr|off;`: an absolute file path (see `accessLogPathProblem`), `stderr` or `off`.
    mutating func applyAccessLog(_ argument: ConfigArgument) {
        switch argument.text {
        case "stderr": observe.accessLog = .stderr
        case "off": observe.accessLog = .off
        case let path:
            if let problem = Self.accessLogPathProblem(path) {
                report(problem, at: argument.token)
            } else {
                observe.accessLog = .file(path)
            }
        }
    }

    /// Why `path` cannot be an access log file, or nil: it must be absolute (a daemon's working directory is
    /// rarely meaningful), without control characters, and not name a directory (`/x/`). Its length is bounded by
    /// the lexer's token limit (4 KiB, PATH_MAX on Linux).
    static func accessLogPathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else {
            return "access_log must be an absolute path, stderr or off, got \"\(path)\""
        }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "access_log path must not contain control characters"
        }
        if path.hasSuffix("/") {
            return "access_log must name a file, got the directory \"\(path)\""
        }
        return nil
    }

    /// The `listen` address that `admin` would share a socket with (same port, and the same host or either one
    /// every interface), if any. Listening sockets use SO_REUSEPORT, so such a pair would bind and then split
    /// connections between the proxy and the admin endpoint: it is refused instead.
    static func listenOverlapping(_ admin: ListenAddress, in listens: [ListenAddress]) -> ListenAddress? {
        func isWildcard(_ host: String?) -> Bool { host == nil || host == "0.0.0.0" || host == "::" }
        return listens.first { listen in
            listen.port == admin.port
                && (isWildcard(listen.host) || isWildcard(admin.host) || listen.host?.lowercased() == admin.host?.lowercased())
        }
    }
}
