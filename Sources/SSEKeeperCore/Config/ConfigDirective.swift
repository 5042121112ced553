/// Where a directive appears: at top level, or inside an `upstream` or `route` block.
enum ConfigContext: Sendable, Equatable, CaseIterable {
    case main
    case upstream
    case route

    /// `at top level`, `in an upstream block`, `in a route block`: ready to follow "is not allowed".
    var phrase: String {
        switch self {
        case .main: "at top level"
        case .upstream: "in an upstream block"
        case .route: "in a route block"
        }
    }
}

/// One row of the directive table: a name, where it may appear, and its shape.
///
/// Every ssekeeper directive takes exactly one argument, except `server`, whose address may be followed by
/// options (`weight=5 backup`); `usage` shows the shape in messages.
struct ConfigDirective: Sendable {
    /// The directive name as written in the file, e.g. `idle_timeout`.
    var name: String
    /// The block kind it may appear in.
    var context: ConfigContext
    /// True for `name ARG { ... }`, false for `name ARG;`.
    var takesBlock: Bool
    /// True when it may appear more than once in the same block (`listen`, `server`, `upstream`, `route`).
    var isRepeatable: Bool
    /// How to write it, e.g. `listen HOST:PORT;`.
    var usage: String
    /// True when options may follow the one argument (`server HOST:PORT weight=5;`); the caller checks them.
    var takesOptions = false

    /// The table, nginx style: the parser looks directives up here instead of switching on names.
    static let all: [ConfigDirective] = {
        func simple(_ name: String, _ argument: String, in context: ConfigContext, repeatable: Bool = false)
            -> ConfigDirective
        {
            ConfigDirective(
                name: name, context: context, takesBlock: false, isRepeatable: repeatable,
                usage: "\(name) \(argument);")
        }
        let streamSettings: [(String, String)] = [
            ("idle_timeout", "DURATION"), ("heartbeat_fraction", "FRACTION"), ("heartbeat_comment", "TEXT"),
            ("sse_retry", "DURATION|off"), ("sse_unavailable", "reconnect|status"),
            ("sse_upstream_error_event", "on|off"), ("upstream_resume", "off|on|always"),
            ("resume_window", "DURATION"), ("resume_backoff", "MIN..MAX"),
        ]
        let limits: [(String, String)] = [
            ("client_header_timeout", "DURATION"), ("upstream_connect_timeout", "DURATION"),
            ("upstream_header_timeout", "DURATION"), ("keepalive_timeout", "DURATION"),
            ("max_connections", "COUNT"), ("max_header_size", "SIZE"), ("max_buffer_size", "SIZE"),
            ("max_body_size", "SIZE|off"), ("probe_path", "PATH|off"), ("probe_max_silence", "DURATION"),
            ("max_connections_per_ip", "COUNT|off"), ("drain_timeout", "DURATION"), ("drain_retry", "DURATION"),
        ]
        let observe: [(String, String)] = [
            ("admin_listen", "HOST:PORT|off"), ("access_log", "PATH|stderr|off"), ("log_format", "text|json"),
        ]
        var table = [
            simple("listen", "HOST:PORT", in: .main, repeatable: true),
            ConfigDirective(
                name: "upstream", context: .main, takesBlock: true, isRepeatable: true,
                usage: "upstream NAME { server HOST:PORT; }"),
            ConfigDirective(
                name: "route", context: .main, takesBlock: true, isRepeatable: true,
                usage: "route PREFIX { upstream NAME; }"),
            ConfigDirective(
                name: "server", context: .upstream, takesBlock: false, isRepeatable: true,
                usage: "server HOST:PORT [weight=N] [max_fails=N] [fail_timeout=DURATION] [backup];",
                takesOptions: true),
            simple("upstream_keepalive", "COUNT", in: .upstream),
            simple("upstream_keepalive_timeout", "DURATION", in: .upstream),
            simple("upstream", "NAME", in: .route),
        ]
        table += (streamSettings + limits + observe).map { simple($0.0, $0.1, in: .main) }
        table += streamSettings.map { simple($0.0, $0.1, in: .route) }
        return table
    }()

    /// `all`, indexed by context then name.
    private static let byContext: [ConfigContext: [String: ConfigDirective]] = Dictionary(
        grouping: all, by: \.context
    ).mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0.name, $0) }) }

    /// Every distinct directive name, in table order.
    private static let names: [String] = all.map(\.name).reduce(into: []) { names, name in
        if !names.contains(name) { names.append(name) }
    }

    /// The directive called `name` in `context`, if there is one.
    static func named(_ name: String, in context: ConfigContext) -> ConfigDirective? {
        byContext[context]?[name]
    }

    /// The contexts in which some directive is called `name`, in `ConfigContext.allCases` order; empty if unknown.
    static func contexts(of name: String) -> [ConfigContext] {
        ConfigContext.allCases.filter { byContext[$0]?[name] != nil }
    }

    /// The closest directive name to `name` (edit distance at most 2), to suggest for a typo.
    static func suggestion(for name: String) -> String? {
        closest(to: name, among: names)
    }

    /// The candidate with the smallest edit distance to `word`, when that distance is 1 or 2 and shorter than
    /// `word`; the first such candidate wins a tie. Gives up (`nil`) on words over 64 bytes or more than 100
    /// candidates, so a hostile file cannot make suggestions quadratic.
    static func closest(to word: String, among candidates: [String]) -> String? {
        guard word.utf8.count <= 64, candidates.count <= 100 else { return nil }
        let wordBytes = Array(word.utf8)
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != word && abs(candidate.utf8.count - wordBytes.count) <= 2 {
            let distance = editDistance(wordBytes, Array(candidate.utf8))
            if distance <= 2, distance < word.utf8.count, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// Levenshtein distance over bytes; inputs are bounded by the lexer's token limit.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var row = previous
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                row[j] = min(previous[j] + 1, row[j - 1] + 1, substitution)
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }
}
