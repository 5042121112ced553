/// What `ssekeeper help`, `ssekeeper --help` or `ssekeeper COMMAND --help` explains: the overview, or one command
/// with every option it takes.
///
/// `Command.parse(_:)` answers `.help(topic)` for `-h`/`--help` anywhere among a command's arguments and for
/// `ssekeeper help COMMAND`, so a user never gets `unknown option "--help"`. The texts are the ones `docs/ssekeeper.8`
/// describes; keep the two in step.
public enum HelpTopic: String, Sendable, Equatable, CaseIterable {
    /// `ssekeeper help`: every command in one screen.
    case overview
    /// `ssekeeper run --help`.
    case run
    /// `ssekeeper check --help`.
    case check
    /// `ssekeeper demo --help`.
    case demo
    /// `ssekeeper probe --help`.
    case probe
    /// `ssekeeper version --help`.
    case version

    /// The topic for a command name as typed after `help`, or nil for a name that is no command.
    public init?(command: String) {
        guard command != "overview", let topic = HelpTopic(rawValue: command) else { return nil }
        self = topic
    }

    /// The text printed on stdout (exit status 0), without a trailing newline.
    public var text: String {
        switch self {
        case .overview:
            return Command.usage + "\n\n" + """
                Run "ssekeeper COMMAND --help" for the options of one command; see also ssekeeper(8).
                """
        case .run:
            return """
                usage: ssekeeper run -c FILE
                       ssekeeper -c FILE

                Runs the proxy with the configuration in FILE until a signal stops it.

                options:
                  -c, --config FILE   the configuration file (required); read once at start and again on SIGHUP
                  -h, --help          print this help and exit 0

                signals:
                  SIGHUP              re-read FILE; a valid file applies to new requests, an invalid one is
                                      logged and the running configuration is kept
                  SIGTERM             drain: stop accepting, end SSE streams with "retry:" at an event
                                      boundary, exit 0 when every connection ended or after drain_timeout;
                                      a second SIGTERM exits at once
                  SIGINT              stop at once, exit 0
                  SIGUSR1             reopen the access_log file (after logrotate renamed it)

                exit status: 0 after a signal; 1 if FILE is unreadable or invalid, a listen address cannot be
                bound, or the access log cannot be opened; 2 for bad arguments.
                """
        case .check:
            return """
                usage: ssekeeper check -c FILE

                Validates a configuration file without running anything: prints "FILE: ok" on stdout, or one
                "FILE:LINE:COLUMN: message" line per error on stderr.

                options:
                  -c, --config FILE   the configuration file to check (required)
                  -h, --help          print this help and exit 0

                exit status: 0 valid; 1 unreadable or invalid; 2 for bad arguments.
                """
        case .demo:
            return """
                usage: ssekeeper demo [--listen HOST:PORT]

                Runs the proxy in front of a built-in demo backend that sends an event every 20s; in the
                silences the proxy sends a ": heartbeat" comment every 4.95s (idle_timeout 15s,
                heartbeat_fraction 0.33). Try: curl -N http://127.0.0.1:8080/events

                options:
                  -l, --listen HOST:PORT   where the proxy listens (default 127.0.0.1:8080)
                  -h, --help               print this help and exit 0

                exit status: 0 after SIGINT or SIGTERM; 1 if it cannot start; 2 for bad arguments.
                """
        case .probe:
            return """
                usage: ssekeeper probe URL [--max DUR] [--json] [--cacert FILE] [--insecure]

                Measures the idle timeout of the path between here and a ssekeeper whose configuration sets
                probe_path: opens streams with growing silences through every load balancer, CDN and proxy on
                the way, reports when and how the path cut them (fin, rst, http_error, silent_drop or none),
                and prints the idle_timeout and heartbeat_fraction lines to paste into the configuration. A path
                that cuts every request at the same total age, whatever its silence, is reported as a lifetime
                limit, with the stream_max_duration and client_resume_window lines instead.

                arguments:
                  URL                 http:// or https:// URL of the probe_path, e.g.
                                      https://your.host/.ssekeeper/probe
                options:
                  --max DUR           the longest silence tried, 1s to 1h (default 15m); the server's
                                      probe_max_silence caps it too
                  --json              print exactly one JSON object on stdout, no progress
                  --cacert FILE       trust the CA certificates in this PEM file, besides the system's
                  -k, --insecure      do not verify the server's certificate (the report says so)
                  -h, --help          print this help and exit 0

                exit status: 0 measured; 1 could not measure (the reason on stderr); 2 for bad arguments.
                """
        case .version:
            return """
                usage: ssekeeper version
                       ssekeeper --version

                Prints "ssekeeper VERSION (build ID, release|debug, ARCH-linux)"; the build ID is the linker's
                GNU build ID of this binary, so two builds of one version can be told apart.

                options:
                  -h, --help          print this help and exit 0

                exit status: 0.
                """
        }
    }
}
