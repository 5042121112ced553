/// The validated configuration of one ssekeeper process.
///
/// Produced by `ConfigParser.parse(_:fileName:)`; every field already has its default applied and every
/// cross-reference (a route naming an upstream) resolved, so the shell never re-validates it.
public struct Config: Sendable, Equatable {
    /// Addresses the proxy accepts clients on (`listen`, repeatable; at least one).
    public var listens: [ListenAddress]
    /// Upstream pools by declaration order (`upstream NAME { server HOST:PORT; ... }`).
    public var upstreams: [Upstream]
    /// Routes, in declaration order; `route(forPath:)` picks the longest matching prefix.
    public var routes: [Route]
    /// Top-level stream settings, the defaults that every route starts from.
    public var defaults: StreamSettings
    /// Limits and timeouts that are not per route.
    public var limits: Limits
    /// The idle-timeout probe endpoint (`probe_path`, off by default).
    public var probe: ProbeSettings
    /// The admin endpoint and the access log (`admin_listen`, `access_log`, `log_format`).
    public var observe: ObserveSettings
    /// The certificate and key of TLS listeners (`tls_certificate`, `tls_certificate_key`).
    public var tls: TLSSettings

    public init(
        listens: [ListenAddress] = [],
        upstreams: [Upstream] = [],
        routes: [Route] = [],
        defaults: StreamSettings = StreamSettings(),
        limits: Limits = Limits(),
        probe: ProbeSettings = ProbeSettings(),
        observe: ObserveSettings = ObserveSettings(),
        tls: TLSSettings = TLSSettings()
    ) {
        self.listens = listens
        self.upstreams = upstreams
        self.routes = routes
        self.defaults = defaults
        self.limits = limits
        self.probe = probe
        self.observe = observe
        self.tls = tls
    }

    /// Whether some `listen` has the `tls` flag (then `tls` names both files, checked by the parser).
    public var hasTLSListener: Bool {
        listens.contains { $0.transport == .tls }
    }

    /// Whether a connection accepted on a listener of `transport` may start HTTP/2 with prior knowledge (RFC 9113
    /// §3.3): on an `h2c` listener while `http2` is on. Any other connection starts in HTTP/1.1, or in TLS, where
    /// ALPN decides.
    public func acceptsPriorKnowledgeHTTP2(on transport: ListenTransport) -> Bool {
        limits.http2 && transport == .h2c
    }

    /// The upstream named `name`, if declared.
    public func upstream(named name: String) -> Upstream? {
        upstreams.first { $0.name == name }
    }
}

/// One `listen` address. `host == nil` means every interface (IPv4 `0.0.0.0`).
public struct ListenAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String?
    public var port: UInt16
    /// What clients speak on it: plain TCP, TLS (`listen HOST:PORT tls;`), or plain TCP where HTTP/2 with prior
    /// knowledge is accepted too (`listen HOST:PORT h2c;`).
    public var transport: ListenTransport

    public init(host: String?, port: UInt16, transport: ListenTransport = .plain) {
        self.host = host
        self.port = port
        self.transport = transport
    }

    /// `127.0.0.1:8080`, `[::1]:8080`, or `*:8080` for all interfaces (without the transport).
    public var description: String {
        guard let host else { return "*:\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// What a listener's clients speak beneath HTTP.
public enum ListenTransport: Sendable, Equatable, Hashable {
    /// Plain TCP (the default).
    case plain
    /// TLS 1.2 or 1.3 (RFC 8446), terminated by ssekeeper with `tls_certificate` and `tls_certificate_key`.
    /// HTTP/2 is chosen inside by ALPN (`h2`, RFC 9113 §3.2) when `Limits.http2` is on, HTTP/1.1 otherwise.
    case tls
    /// Plain TCP on which a client may start HTTP/2 with prior knowledge (RFC 9113 §3.3: the connection preface
    /// `PRI * HTTP/2.0` first) as well as speak HTTP/1.1: for load balancers that speak cleartext HTTP/2 to their
    /// backends, never for browsers. With `Limits.http2` off it is served like `.plain`. Never TLS.
    case h2c
}

/// One upstream server address (`server HOST:PORT;`).
public struct ServerAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 literals in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A named pool of upstream servers (`upstream NAME { server HOST:PORT ...; }`), used by smooth weighted
/// round-robin with backups and passive health (see `UpstreamPool`).
public struct Upstream: Sendable, Equatable {
    public var name: String
    /// The servers in declaration order; the parser guarantees at least one that is not a backup.
    public var servers: [UpstreamServer]
    /// Idle upstream connections kept per event loop for reuse by non-SSE requests (`upstream_keepalive`,
    /// default 0: every request gets its own connection, sent with `Connection: close`).
    public var keepalive: Int
    /// How long an idle pooled connection is kept (`upstream_keepalive_timeout`, default 60s).
    public var keepaliveTimeout: Duration

    public init(name: String, servers: [UpstreamServer], keepalive: Int = 0, keepaliveTimeout: Duration = .seconds(60)) {
        self.name = name
        self.servers = servers
        self.keepalive = keepalive
        self.keepaliveTimeout = keepaliveTimeout
    }

    /// A pool of plain servers: every option at its default.
    public init(name: String, servers: [ServerAddress]) {
        self.init(name: name, servers: servers.map { UpstreamServer(address: $0) })
    }
}

/// One `server HOST:PORT [weight=N] [max_fails=N] [fail_timeout=DUR] [backup];` line of an upstream block.
public struct UpstreamServer: Sendable, Equatable {
    public var address: ServerAddress
    /// Share of requests relative to the other servers of its tier (`weight=`, 1...1000, default 1).
    public var weight: Int
    /// Used only when no primary server is available (`backup`).
    public var isBackup: Bool
    /// Failed connects in a row that mark the server down (`max_fails=`, default 3; 0 never marks it down).
    public var maxFails: Int
    /// How long a server marked down is skipped (`fail_timeout=`, default 10s).
    public var failTimeout: Duration

    public init(address: ServerAddress, weight: Int = 1, isBackup: Bool = false, maxFails: Int = 3,
                failTimeout: Duration = .seconds(10)) {
        self.address = address
        self.weight = weight
        self.isBackup = isBackup
        self.maxFails = maxFails
        self.failTimeout = failTimeout
    }
}

/// A path prefix and where its requests go, with its resolved stream settings.
///
/// Immutable, and a class: every stream holds its route, and a reference costs one reference-count call to copy
/// where the ~25 settings (strings, optionals, arrays) cost about thirty. Equal when all three parts are equal; to
/// change a route, make a new one (`with(settings:)`).
public final class Route: Sendable, Equatable {
    /// The path prefix, starting with `/`. Matching is byte-wise on the request path (query excluded).
    public let prefix: String
    /// Name of the upstream pool; the parser guarantees it exists.
    public let upstreamName: String
    /// Top-level defaults with this route's overrides applied.
    public let settings: StreamSettings
    /// `settings.heartbeatInterval` in nanoseconds, worked out once: every SSE stream reads it when its head
    /// arrives and again when its client closes, and a `Duration` times a `Double` is 128-bit arithmetic.
    public let heartbeatIntervalNanos: UInt64
    /// What this route's heartbeats say, with the comment line built once: every SSE stream shares it.
    public let heartbeat: HeartbeatText

    public init(prefix: String, upstreamName: String, settings: StreamSettings) {
        self.prefix = prefix
        self.upstreamName = upstreamName
        self.settings = settings
        heartbeatIntervalNanos = TimeAmount(settings.heartbeatInterval).nanoseconds
        heartbeat = HeartbeatText(comment: settings.heartbeatComment, event: settings.heartbeatEvent,
                                  data: settings.heartbeatData)
    }

    /// This route with `change` applied to a copy of its settings.
    public func with(settings change: (inout StreamSettings) -> Void) -> Route {
        var settings = settings
        change(&settings)
        return Route(prefix: prefix, upstreamName: upstreamName, settings: settings)
    }

    public static func == (lhs: Route, rhs: Route) -> Bool {
        lhs === rhs
            || (lhs.prefix == rhs.prefix && lhs.upstreamName == rhs.upstreamName && lhs.settings == rhs.settings)
    }
}

/// Settings that apply to one SSE stream; top level gives defaults, `route` blocks override.
public struct StreamSettings: Sendable, Equatable {
    /// The shortest idle timeout of anything between clients and ssekeeper (`idle_timeout`, default 60s).
    public var idleTimeout: Duration
    /// Heartbeat after `idleTimeout × heartbeatFraction` of silence (`heartbeat_fraction`, 0 < F < 1, default 0.33).
    public var heartbeatFraction: Double
    /// The comment text of a heartbeat, sent as `: TEXT` (`heartbeat_comment`, default `heartbeat`). No CR or LF.
    public var heartbeatComment: String
    /// When set, `retry: <ms>` is sent at the start of every SSE stream (`sse_retry`, off by default).
    public var sseRetry: Duration?
    /// What an SSE client gets when no upstream server can be reached (`sse_unavailable`, default `reconnect`).
    public var sseUnavailable: SSEUnavailableMode
    /// Whether a stream whose upstream breaks gets an `event: error` before it closes
    /// (`sse_upstream_error_event`, default off).
    public var sseUpstreamErrorEvent: Bool
    /// Whether a stream whose upstream ends is reconnected behind the client's back (`upstream_resume`, default off).
    public var upstreamResume: UpstreamResumeMode
    /// How long a resume keeps trying before the client's stream is closed (`resume_window`, default 30s).
    public var resumeWindow: Duration
    /// The delay before the second reconnect; it doubles (with jitter) up to `resumeBackoffMax`
    /// (`resume_backoff MIN..MAX`, default 100ms..5s). The first reconnect is immediate.
    public var resumeBackoffMin: Duration
    /// The longest delay between two reconnects.
    public var resumeBackoffMax: Duration
    /// A client that accepts none of the bytes waiting for it for this long is closed (`client_send_timeout`,
    /// default 60s; nil: off).
    public var clientSendTimeout: Duration? = .seconds(60)
    /// A non-SSE response whose upstream sends nothing for this long mid-body is ended (`upstream_read_timeout`,
    /// default 60s; nil: off).
    public var upstreamReadTimeout: Duration? = .seconds(60)
    /// An SSE upstream silent for this long is treated as broken: resumed or ended (`sse_max_silence`, default off).
    public var sseMaxSilence: Duration? = nil
    /// Heartbeats between events are the event `event: <name>` with `data:` (`heartbeat_event`, default off: a
    /// comment line).
    public var heartbeatEvent: String? = nil
    /// The `data:` of a heartbeat event (`heartbeat_data`; nil: the server's Unix time in milliseconds).
    public var heartbeatData: String? = nil
    /// The page origins whose cross-origin requests ssekeeper answers with CORS fields and preflights
    /// (`cors_allow_origin`, default off; see `CORSPolicy`).
    public var corsAllowOrigin: CORSAllowedOrigins = .off
    /// Whether a listed origin may send credentials (`cors_allow_credentials`, default off): adds
    /// `Access-Control-Allow-Credentials: true`. The parser refuses it together with `cors_allow_origin *`.
    public var corsAllowCredentials: Bool = false
    /// Client ride-through: a stream whose client goes away keeps its upstream connection this long, so a reconnect
    /// carrying one of its event ids is attached to it and replayed what it missed (`client_resume_window`, default
    /// off: nil). When set, every event's `id:` is stamped `sk1.<token>.<seq>[.<backend-id>]`. 1s...1h.
    public var clientResumeWindow: Duration? = nil
    /// Bytes of recent events one ride-through stream keeps for replay (`client_resume_buffer`, default 1m; 4k...1024m).
    /// Never more than `Limits.clientResumeMemory`.
    public var clientResumeBuffer: Int = 1024 * 1024
    /// The request headers a reconnect must carry with the original request's values to be attached, besides the
    /// method, the target and the body's SHA-256 (`client_resume_match`, default `Authorization Cookie`). Names as
    /// written in the file, valid field names (RFC 9110 §5.1), none twice ignoring case; compare them
    /// case-insensitively. Empty for `client_resume_match none`.
    public var clientResumeMatch: [String] = ["Authorization", "Cookie"]
    /// A client connection on an SSE stream is ended at an event boundary, with a short `retry:`, after this long
    /// (`stream_max_duration`, default off: nil; at least 1s), for intermediaries that limit a request's total time.
    public var streamMaxDuration: Duration? = nil

    public init(
        idleTimeout: Duration = .seconds(60),
        heartbeatFraction: Double = 0.33,
        heartbeatComment: String = "heartbeat",
        sseRetry: Duration? = nil,
        sseUnavailable: SSEUnavailableMode = .reconnect,
        sseUpstreamErrorEvent: Bool = false,
        upstreamResume: UpstreamResumeMode = .off,
        resumeWindow: Duration = .seconds(30),
        resumeBackoffMin: Duration = .milliseconds(100),
        resumeBackoffMax: Duration = .seconds(5)
    ) {
        self.idleTimeout = idleTimeout
        self.heartbeatFraction = heartbeatFraction
        self.heartbeatComment = heartbeatComment
        self.sseRetry = sseRetry
        self.sseUnavailable = sseUnavailable
        self.sseUpstreamErrorEvent = sseUpstreamErrorEvent
        self.upstreamResume = upstreamResume
        self.resumeWindow = resumeWindow
        self.resumeBackoffMin = resumeBackoffMin
        self.resumeBackoffMax = resumeBackoffMax
    }

    /// How long a stream may stay silent towards the client before a heartbeat is due.
    public var heartbeatInterval: Duration {
        idleTimeout * heartbeatFraction
    }
}

/// What an SSE request (one whose `Accept` includes `text/event-stream`) gets when no upstream server can be reached.
///
/// A native `EventSource` that gets a 502 fails the connection for good and never reconnects (WHATWG HTML,
/// "Server-sent events", §9.2.3 "fail the connection"); a `200 text/event-stream` that ends makes it reconnect.
public enum SSEUnavailableMode: String, Sendable, Equatable {
    /// `200 text/event-stream` with `retry:` and an `event: error` carrying the status and reason, then the end:
    /// browsers keep retrying.
    case reconnect
    /// The plain error status (502, or 504 after a connect timeout) with `Retry-After`.
    case status
}

/// The probe endpoint: an SSE response that sends one event, stays completely silent (no heartbeats) for the
/// time the request asks, then sends a final event, so an intermediary's idle timeout can be measured through it.
public struct ProbeSettings: Sendable, Equatable {
    /// The exact request path served as the probe (`probe_path`, off by default). Matched before routes.
    public var path: String?
    /// The longest silence a probe request may ask for (`probe_max_silence`, default 15m).
    public var maxSilence: Duration = .seconds(15 * 60)

    public init(path: String? = nil, maxSilence: Duration = .seconds(15 * 60)) {
        self.path = path
        self.maxSilence = maxSilence
    }
}

/// Process-wide limits and timeouts, each with its documented default.
public struct Limits: Sendable, Equatable {
    /// A client must send its whole request head within this time (`client_header_timeout`, default 10s).
    public var clientHeaderTimeout: Duration = .seconds(10)
    /// Connecting to one upstream server may take this long (`upstream_connect_timeout`, default 5s).
    public var upstreamConnectTimeout: Duration = .seconds(5)
    /// The upstream must send its response head within this time after the request (`upstream_header_timeout`, default 60s).
    public var upstreamHeaderTimeout: Duration = .seconds(60)
    /// An idle keep-alive client connection is closed after this (`keepalive_timeout`, default 75s).
    public var keepaliveTimeout: Duration = .seconds(75)
    /// Open client connections at most; more are refused with 503 (`max_connections`, default 10000).
    public var maxConnections: Int = 10_000
    /// Bytes of one request or response head at most (`max_header_size`, default 16k).
    public var maxHeaderBytes: Int = 16 * 1024
    /// Bytes waiting to be written to one peer before reading from the other side pauses (`max_buffer_size`, default 256k).
    public var maxBufferedBytes: Int = 256 * 1024
    /// Largest request body accepted; larger ones get 413 before anything is forwarded (`max_body_size`, off by default).
    public var maxBodyBytes: Int? = nil
    /// Open connections from one client address at most; more are refused with 503 (`max_connections_per_ip`, off).
    public var maxConnectionsPerClient: Int? = nil
    /// How long `SIGTERM` waits for open connections to end before exiting (`drain_timeout`, default 10s).
    public var drainTimeout: Duration = .seconds(10)
    /// The `retry:` delay sent to SSE clients when draining ends their stream (`drain_retry`, default 1s).
    public var drainRetry: Duration = .seconds(1)
    /// The window a drain spreads the ends of SSE streams over, each `retry:` jittered around `drainRetry`
    /// (`drain_spread`, default 2s, at most half of `drain_timeout` when not written; zero: every stream ends at
    /// once). See `DrainSpread`.
    public var drainSpread: Duration = .seconds(2)
    /// `TCP_USER_TIMEOUT` on client sockets: a client whose TCP acknowledges nothing for this long is dropped
    /// (`client_ack_timeout`, default 30s; nil: off, the kernel's own limit of about 15 minutes applies).
    public var clientAckTimeout: Duration? = .seconds(30)
    /// TCP keepalive and `TCP_USER_TIMEOUT` on upstream sockets: an upstream host that stopped answering is noticed
    /// within about this long (`upstream_dead_timeout`, default 60s; nil: off).
    public var upstreamDeadTimeout: Duration? = .seconds(60)
    /// The bytes all client ride-through buffers may hold together; at the cap the oldest detached streams are ended
    /// first (`client_resume_memory`, default 256m; at least 1m, and never below a route's `client_resume_buffer`).
    public var clientResumeMemory: Int = 256 * 1024 * 1024
    /// How many event loops serve connections (`event_loops`, default `auto`: one per CPU the process may run on).
    /// Read at start; a reload keeps the loops it has.
    public var eventLoops: EventLoopCount = .auto
    /// Whether clients may speak HTTP/2 (RFC 9113): TLS listeners offer `h2` before `http/1.1` in ALPN, and `h2c`
    /// listeners accept the prior-knowledge preface (`http2`, default on). Off: HTTP/1.1 only, everywhere.
    public var http2: Bool = true
    /// The streams one HTTP/2 connection may have open at once, advertised as SETTINGS_MAX_CONCURRENT_STREAMS
    /// (RFC 9113 §5.1.2, §6.5.2); one more is refused with REFUSED_STREAM (`http2_max_concurrent_streams`, default
    /// 128, 1...10000). Each open stream holds its own upstream connection.
    public var http2MaxConcurrentStreams: Int = HTTP2ConnectionConfiguration.defaultMaxConcurrentStreams

    public init() {}
}
