/// Turns tokens into a tree of `ConfigStatement`s, reporting syntax errors and recovering from each one.
///
/// Rules, in the spirit of nginx:
/// - a statement is a word, its arguments, then `;` (simple) or a `{ ... }` block;
/// - arguments may start on the lines after the name, but once a statement has an argument, a word on a later line
///   begins the next statement: `expected ";" after "listen 8080"` is reported at that word, and both statements
///   are kept. Likewise a `}` or the end of the file where `;` was expected;
/// - a stray `;`, `{` (its block is skipped) or top-level `}` is reported and skipped;
/// - a `{` still open at the end of the file is reported at that `{`;
/// - blocks nest at most `maxNestingDepth` deep; a deeper block is reported and skipped without recursion, so a
///   file of a million `{` cannot overflow the stack.
struct ConfigSyntaxParser {
    /// How deep blocks may nest; ssekeeper's own grammar needs 1, the rest only serves error reporting.
    static let maxNestingDepth = 8

    /// The syntax errors found, in the order found.
    private(set) var errors: [ConfigError] = []
    private let tokens: [ConfigToken]
    private let fileName: String
    private var index = 0

    /// - Parameter tokens: a `ConfigLexer` result, ending with `.endOfFile`.
    init(tokens: [ConfigToken], fileName: String) {
        precondition(tokens.last?.kind == .endOfFile, "tokens must end with .endOfFile")
        self.tokens = tokens
        self.fileName = fileName
    }

    /// Parses every token into the top-level statements; afterwards `errors` holds what was wrong.
    mutating func parseFile() -> [ConfigStatement] {
        parseStatements(openedBy: nil, owner: nil, depth: 0)
    }

    private var current: ConfigToken { tokens[index] }

    private mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    private mutating func report(_ message: String, at token: ConfigToken) {
        errors.append(ConfigError(fileName: fileName, line: token.line, column: token.column, message: message))
    }

    /// Statements up to the `}` matching `brace` (consumed), or to the end of the file at top level.
    private mutating func parseStatements(
        openedBy brace: ConfigToken?, owner: ConfigStatement?, depth: Int
    ) -> [ConfigStatement] {
        var statements: [ConfigStatement] = []
        while true {
            let token = current
            switch token.kind {
            case .endOfFile:
                if let brace {
                    let of = owner.map { " of \"\($0.display)\"" } ?? ""
                    report("unclosed \"{\"\(of): no matching \"}\" before end of file", at: brace)
                }
                return statements
            case .closeBrace:
                advance()
                guard brace == nil else { return statements }
                report("unexpected \"}\" (no block is open)", at: token)
            case .semicolon:
                report("unexpected \";\" (no directive before it)", at: token)
                advance()
            case .openBrace:
                report("unexpected \"{\" (a block needs a directive name before it)", at: token)
                advance()
                _ = parseBlock(openedBy: token, owner: nil, depth: depth + 1)
            case .quoted:
                report("expected a directive name, got quoted string \(token.display)", at: token)
                statements.append(parseStatement(depth: depth, isDamaged: true))
            case .word, .invalid:
                statements.append(parseStatement(depth: depth, isDamaged: token.kind == .invalid))
            }
        }
    }

    /// One statement starting at the current token (its name).
    private mutating func parseStatement(depth: Int, isDamaged: Bool) -> ConfigStatement {
        var statement = ConfigStatement(
            name: current, arguments: [], terminator: current, block: nil, isDamaged: isDamaged)
        var last = current
        advance()
        while true {
            let token = current
            switch token.kind {
            case .word, .quoted, .invalid:
                if !statement.arguments.isEmpty, token.line > last.line {
                    return missingSemicolon(statement, at: token)
                }
                statement.arguments.append(token)
                if token.kind == .invalid { statement.isDamaged = true }
                last = token
                advance()
            case .semicolon:
                statement.terminator = token
                advance()
                return statement
            case .openBrace:
                statement.terminator = token
                advance()
                statement.block = parseBlock(openedBy: token, owner: statement, depth: depth + 1)
                return statement
            case .closeBrace, .endOfFile:
                return missingSemicolon(statement, at: token)
            }
        }
    }

    private mutating func missingSemicolon(_ statement: ConfigStatement, at token: ConfigToken) -> ConfigStatement {
        var statement = statement
        statement.terminator = token
        if !statement.isDamaged {
            report("expected \";\" after \"\(statement.display)\"", at: token)
        }
        return statement
    }

    /// The statements of a block whose `{` was just consumed, or `[]` when it nests too deep (then skipped).
    private mutating func parseBlock(
        openedBy brace: ConfigToken, owner: ConfigStatement?, depth: Int
    ) -> [ConfigStatement] {
        guard depth <= Self.maxNestingDepth else {
            report("blocks nested more than \(Self.maxNestingDepth) deep", at: brace)
            skipBlock(openedBy: brace)
            return []
        }
        return parseStatements(openedBy: brace, owner: owner, depth: depth)
    }

    /// Skips to the `}` matching `brace` (consumed) by counting braces, without recursion.
    private mutating func skipBlock(openedBy brace: ConfigToken) {
        var open = 1
        while open > 0 {
            switch current.kind {
            case .openBrace: open += 1
            case .closeBrace: open -= 1
            case .endOfFile:
                report("unclosed \"{\": no matching \"}\" before end of file", at: brace)
                return
            default: break
            }
            advance()
        }
    }
}
