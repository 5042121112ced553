/// One token of a configuration file, with the position of its first character.
///
/// Produced by `ConfigLexer`; `line` and `column` are 1-based, columns count Unicode scalars.
struct ConfigToken: Sendable, Equatable {
    /// What the token is; words and quoted strings carry their text (quoted strings already unescaped).
    enum Kind: Sendable, Equatable {
        /// A bare word: a run of characters up to whitespace, `;`, `{`, `}`, `#` or a control character.
        case word(String)
        /// A double-quoted string, without its quotes and with `\"` and `\\` already unescaped.
        case quoted(String)
        /// `;`, the end of a simple directive.
        case semicolon
        /// `{`, the start of a block.
        case openBrace
        /// `}`, the end of a block.
        case closeBrace
        /// A token the lexer rejected (unterminated string, bad escape, too long); the lexer already reported why.
        case invalid
        /// The end of the input; always the last token, positioned just after the last character.
        case endOfFile
    }

    /// What the token is.
    var kind: Kind
    /// 1-based line of the token's first character.
    var line: Int
    /// 1-based column of the token's first character, counted in Unicode scalars.
    var column: Int

    /// The text of a word or quoted string, `nil` for every other kind.
    var text: String? {
        switch kind {
        case .word(let text), .quoted(let text): text
        default: nil
        }
    }

    /// The text of a word or quoted string in double quotes (`"5x"`), for messages; other kinds as `display`.
    var quotedText: String {
        guard let text else { return display }
        return "\"" + text.replacingBackslashesAndQuotes() + "\""
    }

    /// The token as it would be written in a file, for error messages: `;`, `{`, `"a b"`, `word`, `end of file`.
    var display: String {
        switch kind {
        case .word(let text): text
        case .quoted(let text): "\"" + text.replacingBackslashesAndQuotes() + "\""
        case .semicolon: ";"
        case .openBrace: "{"
        case .closeBrace: "}"
        case .invalid: "<invalid>"
        case .endOfFile: "end of file"
        }
    }
}

extension String {
    /// `\` becomes `\\` and `"` becomes `\"`: the inverse of the lexer's unescaping.
    fileprivate func replacingBackslashesAndQuotes() -> String {
        var out = ""
        for character in self {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
