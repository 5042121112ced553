/// The dead-peer directives (issue 14): how long a client may accept nothing, a vanished client or upstream host,
/// an upstream gone silent, and heartbeats a client can see. Their rows are in `ConfigDirective.all`; the values
/// they need checked beyond a plain duration are here.
extension ConfigBuilder {
    /// `client_ack_timeout` accepts 1s...1h: it becomes `TCP_USER_TIMEOUT` in milliseconds, and below a second a
    /// client on a lossy mobile link would be dropped after one retransmission.
    static let clientAckTimeoutRange = Duration.seconds(1)...Duration.seconds(60 * 60)
    /// `upstream_dead_timeout` accepts 3s...1h: keepalive probes are timed in whole seconds (the first after half
    /// the timeout, then every sixth, three in all), so below 3s they could not fit inside it.
    static let upstreamDeadTimeoutRange = Duration.seconds(3)...Duration.seconds(60 * 60)
    /// `heartbeat_event` names hold at most 64 bytes.
    static let maxHeartbeatEventBytes = 64
    /// `heartbeat_data` holds at most 200 bytes, as `heartbeat_comment` does.
    static let maxHeartbeatDataBytes = 200
    /// Event types `EventSource` fires itself: a server event of one of these types reaches `onopen` or `onerror`
    /// (WHATWG HTML, "Server-sent events", §9.2.2: the event handler IDL attributes `onopen`, `onmessage` and
    /// `onerror` listen for these types), so a heartbeat under that name would look like a reconnect or a failure.
    static let reservedHeartbeatEvents: Set<String> = ["open", "error"]

    /// `client_send_timeout DURATION|off;`: stored, and its token kept so that `finish()` can hold it against the
    /// heartbeat interval of each route it applies to.
    mutating func applyClientSendTimeout(_ argument: ConfigArgument) {
        guard let value = durationOrOff(argument) else { return }
        setStream(in: argument.context) { $0.clientSendTimeout = value }
        switch argument.context {
        case .main: clientSendTimeoutToken = argument.token
        case .route: currentRoute?.clientSendTimeoutToken = argument.token
        case .upstream: break
        }
    }

    /// `heartbeat_event NAME|off;`: an SSE event type a client can listen for, or `off` for the comment line.
    mutating func applyHeartbeatEvent(_ argument: ConfigArgument) {
        if argument.text == "off" {
            setStream(in: argument.context) { $0.heartbeatEvent = .some(nil) }
        } else if let problem = Self.heartbeatEventProblem(argument.text) {
            report(problem, at: argument.token)
        } else {
            setStream(in: argument.context) { $0.heartbeatEvent = argument.text }
        }
    }

    /// `heartbeat_data TEXT;`: the `data:` of a heartbeat event.
    mutating func applyHeartbeatData(_ argument: ConfigArgument) {
        if let problem = Self.lineTextProblem(argument.text, name: "heartbeat_data", maxBytes: Self.maxHeartbeatDataBytes,
                                              allowsEmpty: true) {
            report(problem, at: argument.token)
        } else {
            setStream(in: argument.context) { $0.heartbeatData = argument.text }
        }
    }

    /// Why `name` cannot be the type of a heartbeat event, or `nil`. It is written as `event: NAME`, so it must fit
    /// on one line (no control character, at most 64 bytes, not empty: an empty type is `message`); it must not
    /// start or end with a space, since the SSE parser strips only the one space after the colon and a client would
    /// have to listen for the spaces too; and it must not be a type `EventSource` fires itself (`open`, `error`).
    /// `message` is allowed: such heartbeats reach `onmessage`.
    static func heartbeatEventProblem(_ name: String) -> String? {
        if let problem = lineTextProblem(name, name: "heartbeat_event", maxBytes: maxHeartbeatEventBytes, allowsEmpty: false) {
            return problem
        }
        if name.hasPrefix(" ") || name.hasSuffix(" ") {
            return "heartbeat_event must not start or end with a space: a client would have to listen for \"\(name)\", spaces included"
        }
        if reservedHeartbeatEvents.contains(name) {
            return "heartbeat_event must not be \"\(name)\": EventSource fires \"\(name)\" itself, so every heartbeat would "
                + "reach the client's on\(name) handler; choose another name, e.g. heartbeat"
        }
        return nil
    }

    /// A `client_send_timeout` written in the file (at top level or in the route) must not be shorter than the
    /// route's heartbeat interval: on a quiet stream the heartbeat is all ssekeeper sends, and a client that takes
    /// each heartbeat's bytes before the next one is due keeps up with the stream, so cutting it sooner would drop
    /// live clients. The default (60s) is not held against long intervals: nobody chose it.
    mutating func checkClientSendTimeout(_ route: PendingRoute, prefix: String, settings: StreamSettings) {
        guard let timeout = settings.clientSendTimeout,
              let token = route.overrides.clientSendTimeout != nil ? route.clientSendTimeoutToken : clientSendTimeoutToken
        else { return }
        let interval = settings.heartbeatInterval
        guard timeout < interval else { return }
        let shown = ConfigValue.formatDuration(interval)
        report("client_send_timeout \(ConfigValue.formatDuration(timeout)) is shorter than the heartbeat interval of "
            + "route \"\(prefix)\" (\(shown), idle_timeout x heartbeat_fraction): on a quiet stream a client that accepts "
            + "each heartbeat before the next is due keeps up, and would be cut; use at least \(shown), or off", at: token)
    }
}
