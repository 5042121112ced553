/// Reads ssekeeper's nginx-like configuration file into a validated `Config`.
///
/// ```
/// listen 127.0.0.1:8080;
/// idle_timeout 30s;
/// upstream events { server 10.0.0.5:9000; server backend.local:9000; }
/// route /events { upstream events; heartbeat_fraction 0.5; }
/// ```
///
/// Parsing runs in three passes over the whole text, each collecting errors and recovering: `ConfigLexer` (tokens),
/// `ConfigSyntaxParser` (statements and blocks), `ConfigBuilder` (directives, values, cross-references). All their
/// errors are merged into file order, so one run reports every problem it can find. The directives, their contexts,
/// defaults and handlers are the rows of `ConfigDirective.all`; `docs/configuration.md` is their reference.
public enum ConfigParser {
    /// Parses `text`, the whole content of a configuration file, into a `Config` with every default applied.
    ///
    /// - Parameter fileName: names the file in error messages (`FILE:LINE:COLUMN: message`); not opened.
    /// - Throws: `ConfigErrors` holding every problem found, sorted by line and column. Problems with the file as a
    ///   whole (larger than 1 MiB, no `listen`, no `route`) are reported at line 1, column 1.
    public static func parse(_ text: String, fileName: String) throws(ConfigErrors) -> Config {
        let (tokens, lexicalErrors) = ConfigLexer.tokenize(text, fileName: fileName)
        guard text.utf8.count <= ConfigLexer.maxFileBytes else {
            throw ConfigErrors(errors: lexicalErrors)  // too large: nothing was read, nothing more to say
        }
        var syntax = ConfigSyntaxParser(tokens: tokens, fileName: fileName)
        let statements = syntax.parseFile()
        var builder = ConfigBuilder(fileName: fileName)
        builder.applyFile(statements)
        let config = builder.finish()
        let errors = lexicalErrors + syntax.errors + builder.errors
        if let config, errors.isEmpty { return config }
        throw ConfigErrors(errors: inFileOrder(errors))
    }

    /// `errors` sorted by line then column; errors at the same position keep their relative order.
    static func inFileOrder(_ errors: [ConfigError]) -> [ConfigError] {
        errors.enumerated()
            .sorted { ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset) }
            .map(\.element)
    }
}
