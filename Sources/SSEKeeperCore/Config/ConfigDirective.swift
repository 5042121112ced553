/// One row of the directive table `ConfigDirective.all`, in the manner of nginx's `ngx_command_t`: a directive's
/// name, the contexts it may appear in, its shape with the handler that parses and stores its value, its syntax,
/// default and a one-line summary.
///
/// `ConfigBuilder` looks every statement up here and calls the row's handler: adding a directive means adding a
/// row (and a section to `docs/configuration.md`, which `DirectiveTableTests` checks against the table). Every
/// directive takes exactly one argument, except `server`, whose address may be followed by options
/// (`weight=5 backup`), `listen` (`tls`), and `cors_allow_origin` and `client_resume_match`, which list one or more origins or headers. Two rows may share a name in different contexts (`upstream NAME { ... }` at top level,
/// `upstream NAME;` in a route), as nginx's `server` does in `http` and in `upstream`.
struct ConfigDirective: Sendable {
    /// How a statement of this directive is shaped, with the handler that gives it meaning.
    enum Form: Sendable {
        /// `name ARG;`: the handler reads the one argument, reports a bad value at it, and stores a good one.
        case value(@Sendable (inout ConfigBuilder, ConfigArgument) -> Void)
        /// `name ARG OPTION ...;`: the one argument, then the options the handler checks (`server`).
        case valueWithOptions(@Sendable (inout ConfigBuilder, ConfigArgument, [ConfigToken]) -> Void)
        /// `name ARG ...;`: one or more arguments of the same kind, all handed over at once (`cors_allow_origin`,
        /// `client_resume_match`).
        case values(@Sendable (inout ConfigBuilder, [ConfigArgument]) -> Void)
        /// `name ARG { ... }`: the handler gets the whole statement and its argument; the argument is `nil` after
        /// an argument-count error (already reported), so the block is still checked.
        case block(@Sendable (inout ConfigBuilder, ConfigStatement, ConfigToken?) -> Void)
    }

    /// Whether a directive may be written more than once in the same block.
    enum Repetition: Sendable, Equatable {
        /// A second one is a "duplicate directive" error (most directives).
        case once
        /// Each occurrence adds one (`listen`, `server`, `upstream`, `route`).
        case repeatable
    }

    /// The `defaultValue` of a directive that has none (`listen`, `upstream`, `route`, `server`), as in nginx's docs.
    static let noDefault = "—"

    /// The directive name as written in the file, e.g. `idle_timeout`.
    var name: String
    /// The blocks it may appear in, in `ConfigContext.allCases` order.
    var contexts: [ConfigContext]
    /// Its shape and handler.
    var form: Form
    /// Whether it may be repeated in one block.
    var repetition: Repetition
    /// How to write it, e.g. `listen HOST:PORT;`: shown in shape errors and on the `Syntax:` line of the docs.
    var syntax: String
    /// The value in effect when the directive is absent, written as in the file (`60s`, `off`), or `noDefault`.
    var defaultValue: String
    /// What it does, in one sentence, for references and tooling.
    var summary: String

    /// True for `name ARG { ... }`, false for `name ARG;`.
    var takesBlock: Bool {
        if case .block = form { true } else { false }
    }

    /// True when more arguments may follow the first (`server HOST:PORT weight=5;`, `cors_allow_origin A B;`).
    var takesOptions: Bool {
        switch form {
        case .valueWithOptions, .values: true
        case .value, .block: false
        }
    }

    /// A `name ARGUMENT;` row: `syntax` is built from the name and `argument` (`DURATION`, `on|off`).
    static func value(
        _ name: String, _ argument: String, in contexts: [ConfigContext], default defaultValue: String,
        _ summary: String, repetition: Repetition = .once,
        apply: @escaping @Sendable (inout ConfigBuilder, ConfigArgument) -> Void
    ) -> ConfigDirective {
        ConfigDirective(
            name: name, contexts: contexts, form: .value(apply), repetition: repetition,
            syntax: "\(name) \(argument);", defaultValue: defaultValue, summary: summary)
    }

    /// `all`, indexed by context then name.
    private static let byContext: [ConfigContext: [String: ConfigDirective]] = {
        var index: [ConfigContext: [String: ConfigDirective]] = [:]
        for directive in all {
            for context in directive.contexts {
                precondition(index[context]?[directive.name] == nil, "two rows for \(directive.name) in \(context)")
                index[context, default: [:]][directive.name] = directive
            }
        }
        return index
    }()

    /// Every distinct directive name, in table order (the order breaks ties between equally close suggestions).
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
