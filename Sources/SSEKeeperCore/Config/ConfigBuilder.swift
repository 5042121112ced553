/// Gives meaning to the statements of a whole file: checks each statement against `ConfigDirective.all` (known name,
/// allowed context, shape, repetition, argument count) and hands it to its row's handler, which validates the
/// argument and stores it; assembles a `Config`, collecting every error instead of stopping at the first.
///
/// Cross-references are resolved in `finish()`, after the whole file was read: a route may name an upstream declared
/// further down, and top-level stream settings apply to every route wherever they are written.
/// To avoid follow-on noise, a statement the syntax parser marked damaged is given no meaning and no further
/// error, yet still counts as "present" (a damaged `listen` suppresses "no listen", a damaged `upstream api`
/// suppresses "unknown upstream api").
struct ConfigBuilder {
    /// A route as read, before its upstream is resolved and its settings merged with the top-level defaults.
    struct PendingRoute {
        /// The prefix, or `nil` when it was missing, invalid or a duplicate (the route is then only checked).
        var prefix: String?
        /// The prefix argument as written, for messages.
        var prefixToken: ConfigToken?
        /// The whole `route` statement, for messages when the prefix is missing.
        var statement: ConfigStatement
        /// The argument of the route's `upstream` directive, resolved in `finish()`.
        var upstreamToken: ConfigToken?
        /// The stream settings this route sets itself.
        var overrides = StreamSettingsOverrides()
        /// The route's own `client_send_timeout` argument, checked against its heartbeat interval in `finish()`.
        var clientSendTimeoutToken: ConfigToken?
        /// The route's own `cors_allow_origin` and `cors_allow_credentials` arguments (see `checkCORS`).
        var corsTokens = CORSTokens()
        /// The route's own `client_resume_buffer` argument, checked against `client_resume_memory` in `finish()`.
        var clientResumeBufferToken: ConfigToken?
    }

    /// The semantic errors found so far, in the order found.
    private(set) var errors: [ConfigError] = []
    /// Names the file in every `ConfigError`.
    let fileName: String
    /// The top-level stream settings written so far; applied to `StreamSettings()` in `finish()`.
    var defaults = StreamSettingsOverrides()
    /// The limits, starting from their defaults, updated by each valid limit directive.
    var limits = Limits()
    /// `probe_path` and `probe_max_silence`.
    var probe = ProbeSettings()
    /// `admin_listen`, `access_log` and `log_format`.
    var observe = ObserveSettings()
    /// The `admin_listen` argument, to report an overlap with a `listen` in `finish()`.
    var adminListenToken: ConfigToken?
    /// The top-level `client_send_timeout` argument, checked against each route's heartbeat interval in `finish()`.
    var clientSendTimeoutToken: ConfigToken?
    /// The `drain_spread` argument, checked against `drain_timeout` in `finish()` (nil: not written).
    var drainSpreadToken: ConfigToken?
    /// The top-level `cors_allow_origin` and `cors_allow_credentials` arguments (see `checkCORS`).
    var corsTokens = CORSTokens()
    /// The top-level `client_resume_buffer` argument, checked against `client_resume_memory` in `finish()`.
    var clientResumeBufferToken: ConfigToken?
    private var listens: [ListenAddress] = []
    /// The first `listen ... tls` address, where a missing `tls_certificate` or key is reported.
    private var firstTLSListenToken: ConfigToken?
    /// `tls_certificate` and `tls_certificate_key`.
    var tls = TLSSettings()
    /// First line of each listen address, keyed with `nil` hosts spelled `0.0.0.0` and host names lowercased.
    private var listenLines: [ListenAddress: Int] = [:]
    /// The route block being read, which route-level directives write into; `nil` outside a route block.
    var currentRoute: PendingRoute?
    /// The upstream block being read, which `server` and the keep-alive directives write into; `nil` outside one.
    var currentUpstream: UpstreamDraft?
    /// The upstreams read so far, in declaration order.
    var upstreams: [Upstream] = []
    /// First line of each upstream name, for duplicate errors.
    var upstreamLines: [String: Int] = [:]
    /// Every name written after a top-level `upstream`, valid or not: a route naming one of these is not reported.
    private var mentionedUpstreamNames: Set<String> = []
    private var routes: [PendingRoute] = []
    private var routeLines: [String: Int] = [:]
    /// Suggestions already computed for unknown directive names, so a file repeating a typo stays linear.
    private var suggestions: [String: String?] = [:]
    private var hasListen = false
    private var hasRoute = false

    /// - Parameter fileName: names the file in every `ConfigError`.
    init(fileName: String) {
        self.fileName = fileName
    }

    /// Records an error at `token`'s position.
    mutating func report(_ message: String, at token: ConfigToken) {
        errors.append(ConfigError(fileName: fileName, line: token.line, column: token.column, message: message))
    }

    /// Applies the top-level statements of a file.
    mutating func applyFile(_ statements: [ConfigStatement]) {
        for statement in statements where statement.nameText == "upstream" && statement.block != nil {
            if let name = statement.arguments.first?.text { mentionedUpstreamNames.insert(name) }
        }
        hasListen = statements.contains { $0.nameText == "listen" }
        hasRoute = statements.contains { $0.nameText == "route" }
        apply(statements, in: .main)
    }

    /// Dispatches the statements of one block through the directive table: each one `check` accepts goes to its
    /// row's handler; the others were reported.
    mutating func apply(_ statements: [ConfigStatement], in context: ConfigContext) {
        var seen: [String: Int] = [:]
        for statement in statements {
            guard let (directive, token) = check(statement, in: context, seen: &seen) else { continue }
            switch directive.form {
            case .block(let handler):
                handler(&self, statement, token)
            case .value(let handler):
                guard let token, let text = token.text else { continue }
                handler(&self, ConfigArgument(name: directive.name, token: token, text: text, context: context))
            case .valueWithOptions(let handler):
                guard let token, let text = token.text else { continue }
                handler(&self, ConfigArgument(name: directive.name, token: token, text: text, context: context),
                        Array(statement.arguments.dropFirst()))
            case .values(let handler):
                guard token != nil else { continue }
                let arguments = statement.arguments.compactMap { argument in
                    argument.text.map { ConfigArgument(name: directive.name, token: argument, text: $0, context: context) }
                }
                handler(&self, arguments)
            }
        }
    }

    /// Stores a stream setting where `context` says: the top-level defaults, or the route block being read.
    mutating func setStream(in context: ConfigContext, _ update: (inout StreamSettingsOverrides) -> Void) {
        switch context {
        case .main: update(&defaults)
        case .route: if currentRoute != nil { update(&currentRoute!.overrides) }
        case .upstream: assertionFailure("no stream setting belongs in an upstream block")
        }
    }

    /// Resolves routes against upstreams and defaults; returns the `Config` when no error was found at all.
    ///
    /// A missing `listen` or `route` is reported at line 1, column 1.
    mutating func finish() -> Config? {
        let start = ConfigToken(kind: .endOfFile, line: 1, column: 1)
        if !hasListen {
            report("no \"listen\" directive: add one at top level, e.g. \"listen 8080;\"", at: start)
        }
        if !hasRoute {
            report("no \"route\" block: add one at top level, e.g. \"route / { upstream NAME; }\"", at: start)
        }
        var resolved: [Route] = []
        let settings = defaults.applied(to: StreamSettings())
        for route in routes {
            guard let token = route.upstreamToken, let name = token.text else { continue }
            guard mentionedUpstreamNames.contains(name) else {
                let shown = route.prefixToken?.text ?? route.statement.display
                let hint = ConfigDirective.closest(to: name, among: upstreams.map(\.name))
                    .map { "; did you mean \"\($0)\"?" } ?? ""
                report("route \"\(shown)\" names unknown upstream \"\(name)\"\(hint)", at: token)
                continue
            }
            if let prefix = route.prefix {
                let routeSettings = route.overrides.applied(to: settings)
                if TimeAmount(routeSettings.heartbeatInterval) < HeartbeatSchedule.minimumInterval, let at = route.prefixToken {
                    report("route \"\(prefix)\": idle_timeout x heartbeat_fraction gives a heartbeat every "
                        + "\(ConfigValue.formatDuration(routeSettings.heartbeatInterval)), below the minimum of \(HeartbeatSchedule.minimumInterval.formatted(.config))", at: at)
                }
                checkClientSendTimeout(route, prefix: prefix, settings: routeSettings)
                checkCORS(route, prefix: prefix, settings: routeSettings)
                checkClientResumeBuffer(route, prefix: prefix, settings: routeSettings)
                resolved.append(Route(prefix: prefix, upstreamName: name, settings: routeSettings))
            }
        }
        if let admin = observe.adminListen, let token = adminListenToken,
           let listen = Self.listenOverlapping(admin, in: listens) {
            report("admin_listen \(admin) would share a port with listen \(listen): give the admin endpoint its own address", at: token)
        }
        checkDrainSpread()
        checkTLSFiles()
        guard errors.isEmpty else { return nil }
        return Config(listens: listens, upstreams: upstreams, routes: resolved, defaults: settings, limits: limits,
                      probe: probe, observe: observe, tls: tls)
    }

    /// Checks that `statement` is a known directive of `context`, with the right shape, not repeated, and with
    /// one argument (or, for a directive that `takesOptions`, one argument then options its handler checks).
    /// Returns the directive and its argument; a block directive is returned with a `nil` argument after an
    /// argument-count error, so its block can still be checked. `nil` means: reported, skip it.
    mutating func check(
        _ statement: ConfigStatement, in context: ConfigContext, seen: inout [String: Int]
    ) -> (ConfigDirective, ConfigToken?)? {
        guard !statement.isDamaged, let name = statement.nameText else { return nil }
        guard let directive = ConfigDirective.named(name, in: context) else {
            reportUnknown(statement, name: name, in: context)
            return nil
        }
        if directive.takesBlock, statement.block == nil {
            report("\"\(name)\" needs a block here: \(directive.syntax)", at: statement.terminator)
            return nil
        }
        if !directive.takesBlock, statement.block != nil {
            report("\"\(name)\" takes no block \(context.phrase): \(directive.syntax)", at: statement.terminator)
            return nil
        }
        if directive.repetition == .once {
            if let first = seen[name] {
                report("duplicate directive \"\(name)\", first at line \(first)", at: statement.name)
                return nil
            }
            seen[name] = statement.name.line
        }
        switch statement.arguments.count {
        case 1:
            return (directive, statement.arguments[0])
        case 2... where directive.takesOptions:
            return (directive, statement.arguments[0])
        case 0:
            report("\"\(name)\" needs an argument: \(directive.syntax)", at: statement.name)
        default:
            report("\"\(name)\" takes one argument, got \(statement.arguments.count): \(directive.syntax)",
                   at: statement.arguments[1])
        }
        return directive.takesBlock ? (directive, nil) : nil
    }

    private mutating func reportUnknown(_ statement: ConfigStatement, name: String, in context: ConfigContext) {
        let homes = ConfigDirective.contexts(of: name)
        guard !homes.isEmpty else {
            if suggestions[name] == nil { suggestions[name] = .some(ConfigDirective.suggestion(for: name)) }
            let hint = suggestions[name]!.map { "; did you mean \"\($0)\"?" } ?? ""
            report("unknown directive \"\(name)\"\(hint)", at: statement.name)
            return
        }
        var message = "\"\(name)\" is not allowed \(context.phrase); it belongs "
            + homes.map(\.phrase).joined(separator: " or ")
        if statement.block != nil, homes == [.main] {
            message += " (is a \"}\" missing before it?)"
        }
        report(message, at: statement.name)
    }

    /// The options a `listen` takes after its address, and the transport each one chooses.
    static let listenOptions: [String: ListenTransport] = ["tls": .tls, "h2c": .h2c]

    /// `listen HOST:PORT [tls|h2c];`: one more address, unless invalid or already listed (by host, case-insensitively,
    /// whatever the transport: one port cannot speak both). `tls` and `h2c` exclude each other: over TLS, HTTP/2 is
    /// chosen by ALPN (`http2`), never by prior knowledge.
    mutating func applyListen(_ argument: ConfigArgument, options: [ConfigToken]) {
        let token = argument.token
        var transport = ListenTransport.plain
        for option in options {
            guard let text = option.text else { continue }
            guard let chosen = Self.listenOptions[text] else {
                let problem = text == "http2"
                    ? "unknown listen option \"http2\": HTTP/2 is on by default for tls listeners (see http2); "
                        + "for cleartext HTTP/2 with prior knowledge write h2c"
                    : ConfigDirective.closest(to: text, among: Self.listenOptions.keys.sorted())
                    .map { "unknown listen option \(option.quotedText); did you mean \"\($0)\"?" }
                    ?? "\"listen\" takes an address and the option tls or h2c, got \(option.quotedText): listen HOST:PORT [tls|h2c];"
                report(problem, at: option)
                return
            }
            switch (transport, chosen) {
            case (.plain, _):
                transport = chosen
            case (let first, let second) where first == second:
                report("duplicate listen option \"\(text)\"", at: option)
                return
            default:
                report("listen options tls and h2c cannot be combined: over TLS, clients choose HTTP/2 by ALPN "
                    + "(see http2), so write \"listen \(argument.text) tls;\"", at: option)
                return
            }
        }
        switch ConfigValue.parseListenAddress(argument.text) {
        case .failure(let problem):
            report(problem.message, at: token)
        case .success(var address):
            let key = ListenAddress(host: address.host?.lowercased() ?? "0.0.0.0", port: address.port)
            if let first = listenLines[key] {
                report("duplicate listen \(address), first at line \(first)", at: token)
                return
            }
            listenLines[key] = token.line
            address.transport = transport
            if transport == .tls, firstTLSListenToken == nil { firstTLSListenToken = token }
            listens.append(address)
        }
    }

    /// `tls_certificate FILE;` or `tls_certificate_key FILE;`: an absolute path without control characters.
    mutating func applyTLSFile(_ argument: ConfigArgument, _ field: WritableKeyPath<TLSSettings, String?>) {
        let path = argument.text
        guard path.hasPrefix("/"), !path.hasSuffix("/") else {
            report("\(argument.name) must be an absolute path to a file, got \"\(path)\"", at: argument.token)
            return
        }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            report("\(argument.name) must not contain control characters", at: argument.token)
            return
        }
        tls[keyPath: field] = path
    }

    /// A `listen ... tls` needs both files: reported at the first such listen address.
    private mutating func checkTLSFiles() {
        guard let token = firstTLSListenToken else { return }
        let missing = [tls.certificatePath == nil ? "tls_certificate" : nil, tls.keyPath == nil ? "tls_certificate_key" : nil]
            .compactMap { $0 }
        guard !missing.isEmpty else { return }
        report("listen \(token.text ?? "") tls needs \(missing.joined(separator: " and ")) at top level, "
            + "e.g. \"tls_certificate /etc/ssekeeper/fullchain.pem;\"", at: token)
    }

    /// `route PREFIX { ... }`: checks the prefix, applies the block's statements to a new `PendingRoute`, and
    /// requires an `upstream` in it (a damaged or misplaced one counts, to avoid a follow-on error).
    mutating func applyRoute(_ statement: ConfigStatement, prefix token: ConfigToken?) {
        var route = PendingRoute(prefix: nil, prefixToken: token, statement: statement)
        if let token, let text = token.text {
            if let problem = Self.prefixProblem(text) {
                report(problem, at: token)
            } else if let first = routeLines[text] {
                report("duplicate route \"\(text)\", first at line \(first)", at: token)
            } else {
                routeLines[text] = token.line
                route.prefix = text
            }
        }
        let block = statement.block ?? []
        currentRoute = route
        apply(block, in: .route)
        route = currentRoute ?? route
        currentRoute = nil
        if !block.contains(where: { $0.nameText == "upstream" }) {
            let shown = token?.text ?? statement.display
            report("route \"\(shown)\" has no \"upstream\" directive: add one, e.g. \"upstream NAME;\"",
                   at: token ?? statement.name)
        }
        routes.append(route)
    }

    /// Letters, digits, `_`, `-` and `.`, at least one.
    static func isValidUpstreamName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "-" || scalar == ".")
        }
    }

    /// Why `prefix` cannot be a route prefix, or `nil`: it must start with `/` and hold no whitespace, control
    /// character, `?` (the query is not matched) or `#`.
    static func prefixProblem(_ prefix: String) -> String? {
        guard prefix.hasPrefix("/") else {
            return "route prefix must start with \"/\", got \"\(prefix)\""
        }
        let bad = prefix.unicodeScalars.first { scalar in
            scalar.value <= 0x20 || scalar.value == 0x7F || scalar == "?" || scalar == "#"
        }
        guard let bad else { return nil }
        let shown = bad.value <= 0x20 || bad.value == 0x7F ? "whitespace or control characters" : "\"\(bad)\""
        return "route prefix \"\(prefix)\" must not contain \(shown)"
    }
}
