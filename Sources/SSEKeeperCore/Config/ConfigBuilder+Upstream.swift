/// `upstream NAME { ... }` blocks: servers with their options, and the keep-alive pool settings.
extension ConfigBuilder {
    /// `weight=` accepts 1...1000 (nginx has no documented maximum; 1000 keeps the sums small and is plenty).
    static let serverWeightRange = 1...1000
    /// `max_fails=` accepts 0...1000; 0 means failures never mark the server down (as in nginx).
    static let serverMaxFailsRange = 0...1000
    /// `upstream_keepalive` accepts 0...10000 idle connections per event loop.
    static let upstreamKeepaliveRange = 0...10_000
    /// The options a `server` line may carry after its address.
    static let serverOptionNames = ["weight", "max_fails", "fail_timeout", "backup"]

    /// An `upstream` block as read: the pool, and what its `server` lines said about backups so far.
    struct UpstreamDraft {
        /// The pool being built; its name is empty when the name was invalid or a duplicate (then it is dropped).
        var upstream: Upstream
        /// True once a `server` line without `backup` was read (valid or not).
        var hasPrimary = false
        /// The first `backup` option, where "only backup servers" is reported.
        var firstBackup: ConfigToken?
    }

    /// Reads an `upstream` block: its name, then its statements through the directive table (`server` with its
    /// options, `upstream_keepalive`, `upstream_keepalive_timeout`). A pool that has servers but only backup ones
    /// is an error at its first `backup`.
    mutating func applyUpstream(_ statement: ConfigStatement, name token: ConfigToken?) {
        var name = token?.text
        if let token, let text = name {
            if !Self.isValidUpstreamName(text) {
                report("invalid upstream name \(token.quotedText) (use letters, digits, \"_\", \"-\" and \".\")", at: token)
                name = nil
            } else if let first = upstreamLines[text] {
                report("duplicate upstream \"\(text)\", first at line \(first)", at: token)
                name = nil
            } else {
                upstreamLines[text] = token.line
            }
        }
        let block = statement.block ?? []
        currentUpstream = UpstreamDraft(upstream: Upstream(name: name ?? "", servers: [UpstreamServer]()))
        apply(block, in: .upstream)
        guard let draft = currentUpstream else { return }
        currentUpstream = nil
        let shown = token?.text ?? statement.display
        if !block.contains(where: { $0.nameText == "server" }) {
            report("upstream \"\(shown)\" has no \"server\": add one, e.g. \"server 127.0.0.1:9000;\"",
                   at: token ?? statement.name)
        } else if !draft.hasPrimary, let firstBackup = draft.firstBackup {
            report("upstream \"\(shown)\" has only backup servers: at least one server must not be \"backup\"",
                   at: firstBackup)
        }
        if name != nil { upstreams.append(draft.upstream) }
    }

    /// `server HOST:PORT [OPTION ...];` in the upstream block being read: adds the server when its address and
    /// every option are valid. A line with a bad option still counts as a server (and as a primary unless it says
    /// `backup`), so one typo gives one error, not a follow-on "only backups".
    mutating func applyServer(_ argument: ConfigArgument, options: [ConfigToken]) {
        if let backupToken = options.first(where: { $0.text == "backup" }) {
            if currentUpstream?.firstBackup == nil { currentUpstream?.firstBackup = backupToken }
        } else {
            currentUpstream?.hasPrimary = true
        }
        let parsedAddress: ServerAddress?
        switch ConfigValue.parseServerAddress(argument.text) {
        case .failure(let problem):
            report(problem.message, at: argument.token)
            parsedAddress = nil
        case .success(let address):
            parsedAddress = address
        }
        if let server = serverOptions(options, address: parsedAddress) {
            currentUpstream?.upstream.servers.append(server)
        }
    }

    /// The server at `address` with `options` applied, or `nil` when the address or an option was invalid
    /// (each problem reported at its token; every option is checked even after a bad one).
    private mutating func serverOptions(_ options: [ConfigToken], address: ServerAddress?) -> UpstreamServer? {
        var server = UpstreamServer(address: address ?? ServerAddress(host: "", port: 0))
        var valid = address != nil
        var given: Set<String> = []
        for token in options {
            guard let text = token.text else { continue }
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : nil
            guard Self.serverOptionNames.contains(key) else {
                let hint = ConfigDirective.closest(to: key, among: Self.serverOptionNames)
                    .map { "; did you mean \"\($0)\"?" } ?? " (use weight=N, max_fails=N, fail_timeout=DURATION or backup)"
                report("unknown server option \(token.quotedText)\(hint)", at: token)
                valid = false
                continue
            }
            guard given.insert(key).inserted else {
                report("duplicate server option \"\(key)\"", at: token)
                valid = false
                continue
            }
            if key == "backup" {
                if value != nil {
                    report("server option \"backup\" takes no value", at: token)
                    valid = false
                }
                server.isBackup = true
                continue
            }
            guard let value, !value.isEmpty else {
                let example = key == "fail_timeout" ? "fail_timeout=10s" : key == "weight" ? "weight=5" : "max_fails=3"
                report("server option \"\(key)\" needs a value, e.g. \(example)", at: token)
                valid = false
                continue
            }
            switch key {
            case "weight":
                if let number = optionNumber(key, value, in: Self.serverWeightRange, example: "weight=5", at: token) {
                    server.weight = number
                } else {
                    valid = false
                }
            case "max_fails":
                if let number = optionNumber(key, value, in: Self.serverMaxFailsRange, example: "max_fails=3", at: token) {
                    server.maxFails = number
                } else {
                    valid = false
                }
            default:
                guard let duration = ConfigValue.parseDuration(value) else {
                    report("invalid fail_timeout \"\(value)\" (use 250ms, 15s, 2m, 1h)", at: token)
                    valid = false
                    continue
                }
                guard Self.durationRange.contains(duration) else {
                    report("fail_timeout must be between 1ms and 24h, got \(value)", at: token)
                    valid = false
                    continue
                }
                server.failTimeout = duration
            }
        }
        return valid ? server : nil
    }

    /// The whole number `value` of option `key` when it is within `range`; otherwise reports at `token`.
    private mutating func optionNumber(
        _ key: String, _ value: String, in range: ClosedRange<Int>, example: String, at token: ConfigToken
    ) -> Int? {
        guard let number = ConfigValue.parseInteger(Substring(value)).flatMap(Int.init(exactly:)) else {
            report("invalid \(key) \"\(value)\" (use a whole number from \(range.lowerBound) to \(range.upperBound), e.g. \(example))", at: token)
            return nil
        }
        guard range.contains(number) else {
            report("\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)", at: token)
            return nil
        }
        return number
    }
}
