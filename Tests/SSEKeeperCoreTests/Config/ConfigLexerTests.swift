import Testing
@testable import SSEKeeperCore

/// Tokens as `LINE:COLUMN kind` strings, and errors as `LINE:COLUMN: message`, for compact expectations.
private func lex(_ text: String, maxTokenBytes: Int = ConfigLexer.maxTokenBytes) -> (tokens: [String], errors: [String]) {
    let (tokens, errors) = ConfigLexer.tokenize(text, fileName: "t", maxTokenBytes: maxTokenBytes)
    let shown = tokens.map { token -> String in
        let kind: String
        switch token.kind {
        case .word(let text): kind = "word(\(text))"
        case .quoted(let text): kind = "quoted(\(text))"
        case .semicolon: kind = ";"
        case .openBrace: kind = "{"
        case .closeBrace: kind = "}"
        case .invalid: kind = "invalid"
        case .endOfFile: kind = "eof"
        }
        return "\(token.line):\(token.column) \(kind)"
    }
    return (shown, errors.map { "\($0.line):\($0.column): \($0.message)" })
}

@Suite struct ConfigLexerTests {
    @Test func words_andPunctuation_carryTheirPositions() {
        let result = lex("listen 8080;\nroute /a {\n\tupstream x; }")
        #expect(result.errors.isEmpty)
        #expect(result.tokens == [
            "1:1 word(listen)", "1:8 word(8080)", "1:12 ;",
            "2:1 word(route)", "2:7 word(/a)", "2:10 {",
            "3:2 word(upstream)", "3:11 word(x)", "3:12 ;", "3:14 }",
            "3:15 eof",
        ])
    }

    @Test func punctuation_needsNoSpaces() {
        #expect(lex("a{b;}c").tokens == ["1:1 word(a)", "1:2 {", "1:3 word(b)", "1:4 ;", "1:5 }", "1:6 word(c)", "1:7 eof"])
    }

    @Test func quotedStrings_unescapeQuoteAndBackslash() {
        let result = lex(#"x "a \"b\" \\ c";"#)
        #expect(result.errors.isEmpty)
        #expect(result.tokens == [#"1:1 word(x)"#, #"1:3 quoted(a "b" \ c)"#, "1:17 ;", "1:18 eof"])
    }

    @Test func quotedStrings_keepSemicolonsBracesAndHashes() {
        let result = lex(#"c "a; {b} # not a comment";"#)
        #expect(result.errors.isEmpty)
        #expect(result.tokens == ["1:1 word(c)", "1:3 quoted(a; {b} # not a comment)", "1:27 ;", "1:28 eof"])
    }

    @Test func emptyQuotedString_isAToken() {
        #expect(lex(#"c "";"#).tokens == ["1:1 word(c)", "1:3 quoted()", "1:5 ;", "1:6 eof"])
    }

    @Test func comments_runToTheEndOfTheLine() {
        let result = lex("listen 80; # listen 81; { }\n# whole line\nroute#inline\n")
        #expect(result.errors.isEmpty)
        #expect(result.tokens == ["1:1 word(listen)", "1:8 word(80)", "1:10 ;", "3:1 word(route)", "4:1 eof"])
    }

    @Test func unterminatedString_isReportedAtItsQuote_andLexingResumesOnTheNextLine() {
        let result = lex("a \"open;\nb;")
        #expect(result.errors == ["1:3: unterminated string: a quoted string must end on the line where it starts"])
        #expect(result.tokens == ["1:1 word(a)", "1:3 invalid", "2:1 word(b)", "2:2 ;", "2:3 eof"])
        #expect(lex("a \"open at end of file").errors.count == 1)
        #expect(lex("a \"ends in a backslash\\").errors.count == 1)
    }

    @Test func unknownEscape_isReportedAtTheBackslash() {
        let result = lex(#"a "x\ny";"#)
        #expect(result.errors == [#"1:5: unknown escape "\n" in quoted string (only \" and \\ are allowed)"#])
        #expect(result.tokens == ["1:1 word(a)", "1:3 invalid", "1:9 ;", "1:10 eof"])
    }

    @Test func textGluedToAClosingQuote_isReported() {
        let result = lex(#"a "x"y;"#)
        #expect(result.errors == [#"1:6: expected whitespace, ";", "{" or "}" after closing quote"#])
        #expect(result.tokens == ["1:1 word(a)", "1:3 invalid", "1:6 word(y)", "1:7 ;", "1:8 eof"])
    }

    @Test func quoteInsideAWord_isReported() {
        let result = lex(#"a b"c";"#)
        #expect(result.errors == [#"1:4: unexpected '"' inside a word; quote the whole argument instead"#])
        #expect(result.tokens == ["1:1 word(a)", "1:3 invalid", "1:7 ;", "1:8 eof"])
    }

    @Test func controlCharacters_outsideStrings_areReported_andSkipped() {
        let result = lex("a\u{0}b\u{7F};")
        #expect(result.errors == ["1:2: invalid control character 0x00", "1:4: invalid control character 0x7F"])
        #expect(result.tokens == ["1:1 word(a)", "1:3 word(b)", "1:5 ;", "1:6 eof"])
    }

    @Test func controlCharacters_insideStrings_areKeptForTheDirectiveToJudge() {
        #expect(lex("a \"x\u{1}\ry\";").tokens == ["1:1 word(a)", "1:3 quoted(x\u{1}\ry)", "1:9 ;", "1:10 eof"])
    }

    @Test func columns_countUnicodeScalars_notBytes() {
        #expect(lex("é ✓ x").tokens == ["1:1 word(é)", "1:3 word(✓)", "1:5 word(x)", "1:6 eof"])
    }

    @Test func crlf_isWhitespace() {
        #expect(lex("a;\r\nb;\r\n").tokens == ["1:1 word(a)", "1:2 ;", "2:1 word(b)", "2:2 ;", "3:1 eof"])
    }

    @Test func tokenAtTheLimit_isAccepted_andOneByteMoreIsReported() {
        let word = String(repeating: "w", count: 4096)
        #expect(lex("a \(word);").errors.isEmpty)
        #expect(lex("a \"\(word)\";").errors.isEmpty)
        let result = lex("a \(word)w;\nb;")
        #expect(result.errors == ["1:3: token is longer than 4096 bytes"])
        #expect(result.tokens == ["1:1 word(a)", "1:3 invalid", "1:4100 ;", "2:1 word(b)", "2:2 ;", "2:3 eof"])
        #expect(lex("a \"\(word)w\";").errors == ["1:3: token is longer than 4096 bytes"])
    }

    @Test func tooLargeFile_isOneError_atTheStart() {
        let text = String(repeating: "x", count: 2 * 1024 * 1024)
        let result = lex(text)
        #expect(result.errors == ["1:1: config file is too large: 2097152 bytes, the limit is 1048576 bytes"])
        #expect(result.tokens == ["1:1 eof"])
        #expect(lex(String(repeating: "x;", count: 512 * 1024)).errors.isEmpty)  // exactly 1 MiB
    }

    @Test func byteOrderMark_isSkipped() {
        #expect(lex("\u{FEFF}listen 80;") == (["1:1 word(listen)", "1:8 word(80)", "1:10 ;", "1:11 eof"], []))
        #expect(lex("a \u{FEFF}b") == (["1:1 word(a)", "1:3 word(\u{FEFF}b)", "1:5 eof"], []))
    }

    @Test func emptyInput_isJustEndOfFile() {
        #expect(lex("") == ([ "1:1 eof"], []))
    }

    @Test func display_quotesAndEscapesQuotedStrings() {
        let token = ConfigToken(kind: .quoted(#"a "b" \"#), line: 1, column: 1)
        #expect(token.display == #""a \"b\" \\""#)
        #expect(token.quotedText == token.display)
        #expect(ConfigToken(kind: .word("5x"), line: 1, column: 1).quotedText == #""5x""#)
    }
}
