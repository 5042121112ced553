/// Where the CORS directives of one block were written, for the errors `checkCORS` reports.
struct CORSTokens: Sendable {
    /// The first argument of `cors_allow_origin`.
    var origin: ConfigToken?
    /// The argument of `cors_allow_credentials`.
    var credentials: ConfigToken?
}

/// `cors_allow_origin` and `cors_allow_credentials` (WHATWG Fetch §3.2 "CORS protocol").
extension ConfigBuilder {
    /// `cors_allow_origin ORIGIN ... | * | off;`: `*` and `off` stand alone; each ORIGIN is checked and stored in
    /// the serialization browsers send (`ConfigValue.parseOrigin`), at most `CORSAllowedOrigins.maxOrigins`, none
    /// twice. Every bad origin is reported at its own token.
    mutating func applyCORSAllowOrigin(_ arguments: [ConfigArgument]) {
        guard let first = arguments.first else { return }
        if arguments.count == 1, first.text == "off" || first.text == "*" {
            storeCORSOrigins(first.text == "off" ? .off : .any, at: first)
            return
        }
        if let alone = arguments.first(where: { $0.text == "off" || $0.text == "*" }) {
            report("cors_allow_origin \(alone.text) stands alone: write it without origins", at: alone.token)
            return
        }
        guard arguments.count <= CORSAllowedOrigins.maxOrigins else {
            report("cors_allow_origin lists \(arguments.count) origins, more than \(CORSAllowedOrigins.maxOrigins)",
                   at: arguments[CORSAllowedOrigins.maxOrigins].token)
            return
        }
        var origins: [String] = []
        var valid = true
        for argument in arguments {
            switch ConfigValue.parseOrigin(argument.text) {
            case .failure(let problem):
                report(problem.message, at: argument.token)
                valid = false
            case .success(let origin) where origins.contains(origin):
                report("origin \(origin) is listed twice", at: argument.token)
                valid = false
            case .success(let origin):
                origins.append(origin)
            }
        }
        if valid { storeCORSOrigins(.list(origins), at: first) }
    }

    /// `cors_allow_credentials on|off;`.
    mutating func applyCORSAllowCredentials(_ argument: ConfigArgument) {
        guard let value = choice(argument, ["on": true, "off": false]) else { return }
        setStream(in: argument.context) { $0.corsAllowCredentials = value }
        if argument.context == .route { currentRoute?.corsTokens.credentials = argument.token } else { corsTokens.credentials = argument.token }
    }

    private mutating func storeCORSOrigins(_ origins: CORSAllowedOrigins, at argument: ConfigArgument) {
        setStream(in: argument.context) { $0.corsAllowOrigin = origins }
        if argument.context == .route { currentRoute?.corsTokens.origin = argument.token } else { corsTokens.origin = argument.token }
    }

    /// Refuses `cors_allow_origin *` with `cors_allow_credentials on` in a route's resolved settings, at the
    /// directive the route itself wrote (else the top-level one), once per position.
    ///
    /// Echoing every origin with credentials instead (what `*` could be made to mean) would let any web site read
    /// a signed-in user's streams with the user's cookies: the classic CORS misconfiguration. Refusing makes the
    /// operator list the origins that may.
    mutating func checkCORS(_ route: PendingRoute, prefix: String, settings: StreamSettings) {
        guard settings.corsAllowOrigin == .any, settings.corsAllowCredentials else { return }
        let own = route.corsTokens.credentials ?? route.corsTokens.origin
        guard let token = own ?? corsTokens.credentials ?? corsTokens.origin,
              !errors.contains(where: { $0.line == token.line && $0.column == token.column }) else { return }
        let place = own == nil ? "" : "route \"\(prefix)\": "
        report(place + "cors_allow_origin * cannot go with cors_allow_credentials on (any web site could read a "
            + "signed-in user's responses): list the origins that may send credentials", at: token)
    }
}
