/// Splits a configuration file into tokens, recording the line and column of each and every lexical error.
///
/// The grammar is nginx's:
/// - whitespace is space, tab, CR and LF; any other control character outside a quoted string is an error;
/// - `#` outside a quoted string starts a comment that runs to the end of the line (also in the middle of a word:
///   `15s#note` is the word `15s`);
/// - `;`, `{` and `}` are tokens of their own;
/// - a `"` at the start of a token opens a quoted string, which must close on the same line. Inside it `\"` stands for
///   `"` and `\\` for `\`; any other backslash escape is an error (there is no `\n`: no value may hold a line break).
///   The closing quote must be followed by whitespace, `;`, `{`, `}`, `#` or the end of the file;
/// - everything else is a word, which ends at whitespace, `;`, `{`, `}`, `#` or a control character. A `"` inside a
///   word is an error: quote the whole argument instead.
///
/// A leading UTF-8 byte order mark is skipped (columns on line 1 start after it).
///
/// The lexer never stops early: after an error it emits an `.invalid` token (so the parser can skip the directive
/// without piling up follow-on errors) and carries on; an unterminated string resumes at the end of its line.
/// The whole input is in memory, bounded by `maxFileBytes`, and is scanned once, so hostile input stays O(n).
struct ConfigLexer {
    /// Largest accepted configuration file: 1 MiB. A larger input yields one error and no tokens but end of file.
    static let maxFileBytes = 1024 * 1024
    /// Largest accepted token (a word, or a quoted string's bytes between its quotes): 4096 bytes.
    static let maxTokenBytes = 4096

    /// The tokens of `text`, always ending with `.endOfFile`, and the lexical errors in file order.
    ///
    /// - Parameters:
    ///   - fileName: used in the `ConfigError`s only.
    ///   - maxFileBytes: the size limit on `text.utf8`; a larger input is reported at 1:1 and not scanned.
    ///   - maxTokenBytes: the size limit on one word or quoted string; a longer one becomes `.invalid`.
    static func tokenize(
        _ text: String,
        fileName: String,
        maxFileBytes: Int = Self.maxFileBytes,
        maxTokenBytes: Int = Self.maxTokenBytes
    ) -> (tokens: [ConfigToken], errors: [ConfigError]) {
        let byteCount = text.utf8.count
        guard byteCount <= maxFileBytes else {
            let error = ConfigError(
                fileName: fileName, line: 1, column: 1,
                message: "config file is too large: \(byteCount) bytes, the limit is \(maxFileBytes) bytes")
            return ([ConfigToken(kind: .endOfFile, line: 1, column: 1)], [error])
        }
        var lexer = ConfigLexer(bytes: Array(text.utf8), fileName: fileName, maxTokenBytes: maxTokenBytes)
        lexer.run()
        return (lexer.tokens, lexer.errors)
    }

    private let bytes: [UInt8]
    private let fileName: String
    private let maxTokenBytes: Int
    private var index = 0
    private var line = 1
    private var column = 1
    private var tokens: [ConfigToken] = []
    private var errors: [ConfigError] = []

    private init(bytes: [UInt8], fileName: String, maxTokenBytes: Int) {
        self.bytes = bytes
        self.fileName = fileName
        self.maxTokenBytes = maxTokenBytes
    }

    private mutating func run() {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }  // a UTF-8 byte order mark is not content
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case ASCII.space, ASCII.tab, ASCII.carriageReturn, ASCII.lineFeed:
                advance()
            case ASCII.hash:
                skipComment()
            case ASCII.semicolon:
                emitPunctuation(.semicolon)
            case ASCII.openBrace:
                emitPunctuation(.openBrace)
            case ASCII.closeBrace:
                emitPunctuation(.closeBrace)
            case ASCII.quote:
                lexQuoted()
            default:
                if ASCII.isControl(byte) {
                    report("invalid control character \(ASCII.hex(byte))", line: line, column: column)
                    advance()
                } else {
                    lexWord()
                }
            }
        }
        tokens.append(ConfigToken(kind: .endOfFile, line: line, column: column))
    }

    /// Moves past one byte, keeping `line` and `column` (in Unicode scalars) current.
    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == ASCII.lineFeed {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1  // UTF-8 continuation bytes belong to the scalar already counted
        }
    }

    private mutating func report(_ message: String, line: Int, column: Int) {
        errors.append(ConfigError(fileName: fileName, line: line, column: column, message: message))
    }

    private mutating func emitPunctuation(_ kind: ConfigToken.Kind) {
        tokens.append(ConfigToken(kind: kind, line: line, column: column))
        advance()
    }

    private mutating func skipComment() {
        while index < bytes.count, bytes[index] != ASCII.lineFeed {
            advance()
        }
    }

    private mutating func lexWord() {
        let startLine = line, startColumn = column
        var text: [UInt8] = []
        var isValid = true
        var isTooLong = false
        while index < bytes.count {
            let byte = bytes[index]
            if ASCII.endsWord(byte) { break }
            if byte == ASCII.quote, isValid {
                report(
                    "unexpected '\"' inside a word; quote the whole argument instead", line: line, column: column)
                isValid = false
            }
            if text.count < maxTokenBytes { text.append(byte) } else { isTooLong = true }
            advance()
        }
        if isTooLong {
            report("token is longer than \(maxTokenBytes) bytes", line: startLine, column: startColumn)
            isValid = false
        }
        let kind: ConfigToken.Kind = isValid ? .word(String(decoding: text, as: UTF8.self)) : .invalid
        tokens.append(ConfigToken(kind: kind, line: startLine, column: startColumn))
    }

    private mutating func lexQuoted() {
        let startLine = line, startColumn = column
        advance()  // the opening quote
        var text: [UInt8] = []
        var isValid = true
        var isTooLong = false
        var isClosed = false
        func append(_ byte: UInt8) {
            if text.count < maxTokenBytes { text.append(byte) } else { isTooLong = true }
        }
        while index < bytes.count, bytes[index] != ASCII.lineFeed {
            let byte = bytes[index]
            if byte == ASCII.quote {
                advance()
                isClosed = true
                break
            }
            if byte == ASCII.backslash {
                let escapeLine = line, escapeColumn = column
                advance()
                guard index < bytes.count, bytes[index] != ASCII.lineFeed else { break }  // unterminated
                let escaped = bytes[index]
                if escaped == ASCII.quote || escaped == ASCII.backslash {
                    append(escaped)
                } else {
                    if isValid {
                        report(
                            "unknown escape \"\\\(Self.describe(escaped))\" in quoted string (only \\\" and \\\\ are allowed)",
                            line: escapeLine, column: escapeColumn)
                    }
                    isValid = false
                }
                advance()
                continue
            }
            append(byte)
            advance()
        }
        guard isClosed else {
            report("unterminated string: a quoted string must end on the line where it starts",
                   line: startLine, column: startColumn)
            tokens.append(ConfigToken(kind: .invalid, line: startLine, column: startColumn))
            return  // resume at the line feed, so the next line lexes normally
        }
        if isTooLong {
            report("token is longer than \(maxTokenBytes) bytes", line: startLine, column: startColumn)
            isValid = false
        }
        if index < bytes.count, !ASCII.endsQuoted(bytes[index]) {
            if isValid {
                report("expected whitespace, \";\", \"{\" or \"}\" after closing quote", line: line, column: column)
            }
            isValid = false
        }
        let kind: ConfigToken.Kind = isValid ? .quoted(String(decoding: text, as: UTF8.self)) : .invalid
        tokens.append(ConfigToken(kind: kind, line: startLine, column: startColumn))
    }

    /// A printable ASCII byte as itself, anything else as `0xNN`, for messages.
    private static func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? String(UnicodeScalar(byte)) : ASCII.hex(byte)
    }
}

/// The bytes the lexer cares about, and its character classes.
private enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let semicolon: UInt8 = 0x3B
    static let backslash: UInt8 = 0x5C
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D

    static func isControl(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F
    }

    /// Whitespace, `;`, `{`, `}`, `#` and control characters end a word.
    static func endsWord(_ byte: UInt8) -> Bool {
        isControl(byte) || byte == space || byte == semicolon || byte == openBrace || byte == closeBrace
            || byte == hash
    }

    /// What may follow a closing quote: whitespace, `;`, `{`, `}` or `#`.
    static func endsQuoted(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == carriageReturn || byte == lineFeed || byte == semicolon
            || byte == openBrace || byte == closeBrace || byte == hash
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
