extension ConfigBuilder {
    /// Applies `admin_listen`, `access_log` or `log_format`; false for other names.
    mutating func applyObserveSetting(_ name: String, _ token: ConfigToken) -> Bool {
        guard let text = token.text else { return ["admin_listen", "access_log", "log_format"].contains(name) }
        switch name {
        case "admin_listen":
            if text == "off" {
                observe.adminListen = nil
                break
            }
            switch ConfigValue.parseListenAddress(text) {
            case .failure(let problem): report("admin_listen: \(problem.message)", at: token)
            case .success(let address):
                observe.adminListen = address
                adminListenToken = token
            }
        case "access_log":
            switch text {
            case "stderr": observe.accessLog = .stderr
            case "off": observe.accessLog = .off
            default:
                if let problem = Self.accessLogPathProblem(text) {
                    report(problem, at: token)
                } else {
                    observe.accessLog = .file(text)
                }
            }
        case "log_format":
            guard let format = LogFormat(rawValue: text) else {
                report("log_format must be text or json, got \(token.quotedText)", at: token)
                break
            }
            observe.logFormat = format
        default:
            return false
        }
        return true
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
