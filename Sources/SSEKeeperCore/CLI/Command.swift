/// What the `ssekeeper` executable was asked to do, parsed from its arguments by `Command.parse(_:)`.
public enum Command: Sendable, Equatable {
    /// `ssekeeper run -c FILE` or `ssekeeper -c FILE`: run the proxy.
    case run(configPath: String)
    /// `ssekeeper check -c FILE`: validate a config and exit.
    case check(configPath: String)
    /// `ssekeeper demo [--listen HOST:PORT]`: the proxy in front of a built-in demo backend.
    case demo(listen: String?)
    /// `ssekeeper probe URL [--max DUR] [--json] [--cacert FILE] [--insecure]`: measure a path's idle timeout.
    case probe(ProbeOptions)
    /// `ssekeeper help [COMMAND]`, `-h`, `--help`, or `-h`/`--help` among a command's arguments: print that help.
    case help(HelpTopic)
    /// `ssekeeper version`, `--version`.
    case version

    /// The usage text printed by `help` and after argument errors.
    public static let usage = """
        usage: ssekeeper run -c FILE        run the proxy with a config file (also: ssekeeper -c FILE)
               ssekeeper check -c FILE      validate a config file: prints "FILE: ok" or every error
               ssekeeper demo [--listen HOST:PORT]
                                            run the proxy in front of a built-in demo SSE backend
                                            (default listen 127.0.0.1:8080)
               ssekeeper probe URL [--max DUR] [--json] [--cacert FILE] [--insecure]
                                            measure the idle timeout between here and ssekeeper's
                                            probe_path (URL: http:// or https://; --max default 15m)
               ssekeeper help [COMMAND] | version
                                            COMMAND --help prints the options of one command
        """

    /// Parses the arguments after the program name.
    ///
    /// `-h` or `--help` anywhere after a command asks for that command's help, whatever else was given, so
    /// `ssekeeper probe URL --max 2m --help` explains probe instead of probing.
    public static func parse(_ arguments: [String]) throws(CommandLineError) -> Command {
        guard let first = arguments.first else { throw CommandLineError("no command given") }
        var rest = Array(arguments.dropFirst())
        if first != "help", let topic = helpTopic(command: first), rest.contains(where: isHelpOption) {
            return .help(topic)
        }
        switch first {
        case "-h", "--help":
            try expectNoMore(rest)
            return .help(.overview)
        case "help":
            guard let name = rest.first else { return .help(.overview) }
            try expectNoMore(Array(rest.dropFirst()))
            guard let topic = HelpTopic(command: name) else { throw CommandLineError("no help for \"\(name)\": not a command") }
            return .help(topic)
        case "--version", "version":
            try expectNoMore(rest)
            return .version
        case "-c", "--config":
            rest = arguments
            return .run(configPath: try configPath(from: &rest, command: "run"))
        case "run":
            return .run(configPath: try configPath(from: &rest, command: "run"))
        case "check":
            return .check(configPath: try configPath(from: &rest, command: "check"))
        case "demo":
            var listen: String?
            while let option = rest.first {
                rest.removeFirst()
                guard option == "--listen" || option == "-l" else {
                    throw CommandLineError("unknown option \"\(option)\" for demo")
                }
                guard let value = rest.first else { throw CommandLineError("\(option) needs HOST:PORT") }
                rest.removeFirst()
                listen = value
            }
            return .demo(listen: listen)
        case "probe":
            return .probe(try ProbeOptions.parse(rest))
        default:
            throw CommandLineError("unknown command \"\(first)\"")
        }
    }

    /// The command whose help `-h`/`--help` after `first` asks for (`-c FILE` alone means `run`).
    private static func helpTopic(command first: String) -> HelpTopic? {
        switch first {
        case "-c", "--config": return .run
        case "--version": return .version
        default: return HelpTopic(command: first)
        }
    }

    private static func isHelpOption(_ argument: String) -> Bool { argument == "-h" || argument == "--help" }

    private static func configPath(from rest: inout [String], command: String) throws(CommandLineError) -> String {
        var path: String?
        while let option = rest.first {
            rest.removeFirst()
            guard option == "-c" || option == "--config" else {
                throw CommandLineError("unknown option \"\(option)\" for \(command)")
            }
            guard let value = rest.first, !value.isEmpty else { throw CommandLineError("\(option) needs a file name") }
            rest.removeFirst()
            guard path == nil else { throw CommandLineError("-c given twice") }
            path = value
        }
        guard let path else { throw CommandLineError("\(command) needs -c FILE") }
        return path
    }

    private static func expectNoMore(_ rest: [String]) throws(CommandLineError) {
        if let extra = rest.first { throw CommandLineError("unexpected argument \"\(extra)\"") }
    }
}

/// An argument the executable cannot make sense of; printed with the usage text, exit status 2.
public struct CommandLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
