/// One directive as written, before any meaning is given to it: `name arg ...;` or `name arg ... { ... }`.
///
/// Produced by `ConfigSyntaxParser`, read by `ConfigBuilder`. Holds tokens rather than strings so every later
/// error can point at the exact argument.
struct ConfigStatement: Sendable, Equatable {
    /// The directive name: a `.word`, or the `.quoted`/`.invalid` token that stood in its place.
    var name: ConfigToken
    /// The arguments, in order (words, quoted strings, and `.invalid` tokens when the lexer rejected one).
    var arguments: [ConfigToken]
    /// The `;` or `{` that ended the statement, or the token at which a `;` was expected but missing.
    var terminator: ConfigToken
    /// The statements between `{` and `}`, or `nil` for a simple directive.
    var block: [ConfigStatement]?
    /// True when an error was already reported inside this statement's own tokens (a lexical error, a quoted name):
    /// the builder then gives it no meaning and reports nothing more about it.
    var isDamaged: Bool

    /// The directive's name, or `nil` when it is not a plain word.
    var nameText: String? {
        if case .word(let text) = name.kind { text } else { nil }
    }

    /// `listen 8080`, `route "/a b"`: the statement as written, shortened to about 60 characters, for messages.
    var display: String {
        let full = ([name] + arguments).map(\.display).joined(separator: " ")
        guard full.count > 60 else { return full }
        return String(full.prefix(57)) + "..."
    }
}
