/// The client ride-through directives (issue 15): how long a stream waits for its gone client, what it keeps for
/// replay, which request headers a reconnect must repeat, and the total-lifetime cut. Their rows are in
/// `ConfigDirective.all`; the values they need checked beyond a plain duration or size are here.
extension ConfigBuilder {
    /// `client_resume_window` accepts 1s...1h when on: a detached stream keeps an upstream connection and up to
    /// `client_resume_buffer` of memory for the whole window, so an hour bounds what gone clients can hold; below a
    /// second no browser reconnects in time (`EventSource` waits about 3s by default).
    static let clientResumeWindowRange = Duration.seconds(1)...Duration.seconds(60 * 60)
    /// `client_resume_buffer` accepts 4k...1024m (1 GiB), the lower bound being `max_buffer_size`'s.
    static let clientResumeBufferRange = 4 * 1024...1024 * 1024 * 1024
    /// `client_resume_memory` accepts 1m...1 TiB (`1048576m`); it must also hold each route's `client_resume_buffer`.
    static let clientResumeMemoryRange = 1024 * 1024...(1 << 40)
    /// `stream_max_duration` accepts 1s...24h when on: a shorter cut would end streams faster than clients reconnect.
    static let streamMaxDurationRange = Duration.seconds(1)...durationRange.upperBound
    /// The most header names one `client_resume_match` may list: each is compared on every reconnect.
    static let maxClientResumeMatchHeaders = 32
    /// Headers a reconnect cannot be expected to repeat with the same value, lowercased: `Last-Event-ID` is what a
    /// reconnect changes (WHATWG HTML, "Server-sent events", §9.2.3: it carries the last event id received).
    static let unmatchableHeaders: Set<String> = ["last-event-id"]

    /// `client_resume_window DURATION|off;`.
    mutating func applyClientResumeWindow(_ argument: ConfigArgument) {
        guard let value = durationOrOff(argument, in: Self.clientResumeWindowRange) else { return }
        setStream(in: argument.context) { $0.clientResumeWindow = value }
    }

    /// `client_resume_buffer SIZE;`: stored, and its token kept so that `finish()` can hold it against
    /// `client_resume_memory`.
    mutating func applyClientResumeBuffer(_ argument: ConfigArgument) {
        guard let value = size(argument, in: Self.clientResumeBufferRange) else { return }
        setStream(in: argument.context) { $0.clientResumeBuffer = value }
        switch argument.context {
        case .main: clientResumeBufferToken = argument.token
        case .route: currentRoute?.clientResumeBufferToken = argument.token
        case .upstream: break
        }
    }

    /// `stream_max_duration DURATION|off;`.
    mutating func applyStreamMaxDuration(_ argument: ConfigArgument) {
        guard let value = durationOrOff(argument, in: Self.streamMaxDurationRange) else { return }
        setStream(in: argument.context) { $0.streamMaxDuration = value }
    }

    /// `client_resume_match HEADER ... | none;`: `none` stands alone and stores an empty list; otherwise each name
    /// must be a field name (RFC 9110 §5.1: a `token`, §5.6.2), listed once ignoring case, not `Last-Event-ID`,
    /// at most `maxClientResumeMatchHeaders`. Names are stored as written. Every bad name is reported at its token,
    /// and nothing is stored unless all are good.
    mutating func applyClientResumeMatch(_ arguments: [ConfigArgument]) {
        guard let first = arguments.first else { return }
        if arguments.count == 1, first.text == "none" {
            setStream(in: first.context) { $0.clientResumeMatch = [] }
            return
        }
        if let alone = arguments.first(where: { $0.text == "none" }) {
            report("client_resume_match none stands alone: write it without header names", at: alone.token)
            return
        }
        guard arguments.count <= Self.maxClientResumeMatchHeaders else {
            report("client_resume_match lists \(arguments.count) headers, more than \(Self.maxClientResumeMatchHeaders)",
                   at: arguments[Self.maxClientResumeMatchHeaders].token)
            return
        }
        var names: [String] = []
        var seen: Set<String> = []
        for argument in arguments {
            let lowercased = argument.text.lowercased()
            if let problem = Self.headerNameProblem(argument.text) {
                report(problem, at: argument.token)
            } else if Self.unmatchableHeaders.contains(lowercased) {
                report("client_resume_match must not list \(argument.text): a reconnect sends it with a new value, "
                    + "so no reconnect would ever be attached", at: argument.token)
            } else if !seen.insert(lowercased).inserted {
                report("header \(argument.text) is listed twice (header names are compared ignoring case)",
                       at: argument.token)
            } else {
                names.append(argument.text)
            }
        }
        if names.count == arguments.count { setStream(in: first.context) { $0.clientResumeMatch = names } }
    }

    /// Why `name` cannot be a header name, or `nil`: a field name is a `token`, one or more `tchar`
    /// (RFC 9110 §5.1 and §5.6.2), so no space, colon, quote or non-ASCII byte.
    static func headerNameProblem(_ name: String) -> String? {
        if !name.utf8.isEmpty, name.utf8.allSatisfy(HTTPSyntax.isTokenByte) { return nil }
        return "client_resume_match \"\(name)\" is not a header name (RFC 9110 field-name: letters, digits and "
            + "!#$%&'*+-.^_`|~, at least one)"
    }

    /// A route's `client_resume_buffer` must not be larger than `client_resume_memory`, which caps every stream's
    /// buffer together: one stream could otherwise outgrow the cap on its own, and the cap would end it. Reported at
    /// the `client_resume_buffer` the route wrote, else the top-level one, once per position. The default (1m)
    /// never exceeds the smallest `client_resume_memory` (1m), so a written buffer is always there to point at.
    mutating func checkClientResumeBuffer(_ route: PendingRoute, prefix: String, settings: StreamSettings) {
        let memory = limits.clientResumeMemory
        guard settings.clientResumeBuffer > memory else { return }
        let own = route.overrides.clientResumeBuffer != nil ? route.clientResumeBufferToken : nil
        guard let token = own ?? clientResumeBufferToken ?? route.prefixToken,
              !errors.contains(where: { $0.line == token.line && $0.column == token.column }) else { return }
        let place = own == nil ? "" : "route \"\(prefix)\": "
        report(place + "client_resume_buffer \(ConfigValue.formatSize(settings.clientResumeBuffer)) is larger than "
            + "client_resume_memory \(ConfigValue.formatSize(memory)), which caps all streams' buffers together: "
            + "lower client_resume_buffer or raise client_resume_memory", at: token)
    }
}
