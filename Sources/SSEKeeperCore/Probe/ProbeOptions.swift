/// The arguments of `ssekeeper probe URL [--max DUR] [--json] [--cacert FILE] [--insecure]`.
public struct ProbeOptions: Sendable, Equatable {
    /// The shortest `--max` accepted.
    public static let minimumMaxSilence = Duration.seconds(1)
    /// The longest `--max` accepted.
    public static let maximumMaxSilence = Duration.seconds(3600)
    /// `--max` when not given: the server's default `probe_max_silence`.
    public static let defaultMaxSilence = Duration.seconds(900)

    /// The probe endpoint's URL.
    public var url: ProbeURL
    /// The longest silence tried (`--max`).
    public var maxSilence: Duration
    /// Print one JSON object instead of text, and no progress (`--json`).
    public var json: Bool
    /// A PEM file of CA certificates to trust for https (`--cacert`), besides the system's.
    public var caFile: String?
    /// Skip certificate verification for https (`--insecure`).
    public var insecure: Bool

    /// Creates options.
    public init(url: ProbeURL, maxSilence: Duration = ProbeOptions.defaultMaxSilence, json: Bool = false,
                caFile: String? = nil, insecure: Bool = false) {
        self.url = url
        self.maxSilence = maxSilence
        self.json = json
        self.caFile = caFile
        self.insecure = insecure
    }

    /// Parses the arguments after `probe`.
    static func parse(_ arguments: [String]) throws(CommandLineError) -> ProbeOptions {
        var rest = arguments[...]
        var urlText: String?
        var maxSilence = defaultMaxSilence
        var json = false
        var caFile: String?
        var insecure = false
        var seen: Set<String> = []
        while let argument = rest.popFirst() {
            if argument.hasPrefix("-") {
                guard seen.insert(argument).inserted else { throw CommandLineError("\(argument) given twice") }
            }
            switch argument {
            case "--max":
                guard let value = rest.popFirst() else { throw CommandLineError("--max needs a duration (e.g. 15m)") }
                guard let duration = ConfigValue.parseDuration(value),
                      duration >= minimumMaxSilence, duration <= maximumMaxSilence else {
                    throw CommandLineError("invalid --max \"\(value)\" (use a duration from 1s to 1h, e.g. 90s or 15m)")
                }
                maxSilence = duration
            case "--json":
                json = true
            case "--cacert":
                guard let value = rest.popFirst(), !value.isEmpty else { throw CommandLineError("--cacert needs a file name") }
                caFile = value
            case "--insecure", "-k":
                insecure = true
            case _ where argument.hasPrefix("-"):
                throw CommandLineError("unknown option \"\(argument)\" for probe")
            default:
                guard urlText == nil else { throw CommandLineError("unexpected argument \"\(argument)\"") }
                urlText = argument
            }
        }
        guard let urlText else { throw CommandLineError("probe needs a URL, e.g. https://your.host/.ssekeeper/probe") }
        let url: ProbeURL
        do {
            url = try ProbeURL.parse(urlText)
        } catch {
            throw CommandLineError("invalid URL \"\(urlText.prefix(200))\": \(error.message)")
        }
        if caFile != nil && insecure { throw CommandLineError("--cacert and --insecure contradict each other") }
        if url.scheme == .http && (caFile != nil || insecure) {
            throw CommandLineError("--cacert and --insecure apply to https:// URLs only")
        }
        return ProbeOptions(url: url, maxSilence: maxSilence, json: json, caFile: caFile, insecure: insecure)
    }
}
