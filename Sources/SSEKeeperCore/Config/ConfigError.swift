/// One problem found in a configuration file, with the position of the token that caused it.
///
/// `line` and `column` are 1-based. A column counts Unicode scalars from the start of the line (a tab counts as one),
/// so it matches what most editors show for ASCII and UTF-8 text. Problems that concern the whole file (no `listen`,
/// no `route`, file too large) are reported at line 1, column 1.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name the file was loaded under, as passed to `ConfigParser.parse(_:fileName:)`.
    public var fileName: String
    /// 1-based line of the offending token; 0 when the file as a whole could not be read (`message` then says why,
    /// e.g. `No such file or directory`).
    public var line: Int
    /// 1-based column (in Unicode scalars) of the offending token.
    public var column: Int
    /// What is wrong, in one sentence without a trailing period, e.g. `unknown directive "idle_timout"`.
    public var message: String

    public init(fileName: String, line: Int, column: Int, message: String) {
        self.fileName = fileName
        self.line = line
        self.column = column
        self.message = message
    }

    /// `FILE:LINE:COLUMN: message`, the form compilers use, so editors can jump to it; for a file that could not be
    /// read (line 0), `cannot read config file FILE: message` instead of a position that does not exist.
    public var description: String {
        line == 0 ? "cannot read config file \(fileName): \(message)" : "\(fileName):\(line):\(column): \(message)"
    }
}

/// Every problem found in one configuration file, in file order (by line, then column).
///
/// `ConfigParser` keeps going after an error, so one run reports all of them; `errors` is never empty when thrown.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, sorted by position; problems at the same position keep the order they were found in.
    public var errors: [ConfigError]

    public init(errors: [ConfigError]) {
        self.errors = errors
    }

    /// One `FILE:LINE:COLUMN: message` line per error, joined with `\n` (no trailing newline).
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
