// Fuzz target: ConfigParser.parse on arbitrary text (invalid UTF-8 is decoded with U+FFFD, as the CLI does).
//
// Checks: parsing either returns a Config or throws a non-empty ConfigErrors in file order (line, then column),
// every position 1-based and inside the file; a returned Config is complete and consistent (a listen, a route,
// routes name declared upstreams that have servers, values within their documented ranges), and its addresses
// and durations survive a round trip through their formatting; the Router finds every route by its own prefix;
// each upstream's pool state machine gives every server once per attempt order, never a backup first while a
// primary is available.
// Each input is parsed twice: as it is, and after a small valid skeleton (listen, upstream, route).

/// Prepended to the input for a second parse, so a few valid directives are enough to reach a whole `Config`
/// (and the checks on it) without the fuzzer having to write the mandatory listen, upstream and route.
private let skeleton = "listen 65535;\nupstream u0 { server h0:1; }\nroute /0 { upstream u0; }\n"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    check(text)
    check(skeleton + text)
    return 0
}

private func check(_ text: String) {
    let lineCount = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    let config: Config
    do {
        config = try ConfigParser.parse(text, fileName: "fuzz.conf")
    } catch {
        require(!error.errors.isEmpty, "ConfigErrors thrown without errors")
        var previous = (line: 1, column: 1)
        for item in error.errors {
            require(item.fileName == "fuzz.conf", "file name \(item.fileName)")
            require(item.line >= 1 && item.line <= lineCount && item.column >= 1,
                    "error position \(item.line):\(item.column) outside \(lineCount) lines: \(item)")
            require((item.line, item.column) >= previous, "errors out of order at \(item)")
            require(!item.message.isEmpty, "empty message at \(item.line):\(item.column)")
            previous = (item.line, item.column)
        }
        _ = error.description
        return
    }

    require(!config.listens.isEmpty, "config without listen")
    require(!config.routes.isEmpty, "config without route")
    for listen in config.listens {
        require(listen.port >= 1, "listen port 0")
        guard case .success(let again) = ConfigValue.parseListenAddress(listen.description) else {
            invariantFailure("listen \(listen) does not re-parse")
        }
        // The description is the address alone (the transport, `tls` or `h2c`, is a separate word of the
        // directive), so the address must survive the round trip and the transport is not part of it.
        require(again == ListenAddress(host: listen.host, port: listen.port),
                "listen \(listen) re-parses as \(again)")
    }
    for upstream in config.upstreams {
        require(!upstream.servers.isEmpty, "upstream \(upstream.name) without servers")
        require(ConfigBuilder.isValidUpstreamName(upstream.name), "upstream name \(upstream.name)")
        for server in upstream.servers {
            guard case .success(let again) = ConfigValue.parseServerAddress(server.address.description) else {
                invariantFailure("server \(server.address) does not re-parse")
            }
            require(again == server.address, "server \(server.address) re-parses as \(again)")
            require(ConfigBuilder.serverWeightRange.contains(server.weight), "server weight \(server.weight)")
            require(ConfigBuilder.serverMaxFailsRange.contains(server.maxFails), "server max_fails \(server.maxFails)")
            checkDuration(server.failTimeout, "server fail_timeout")
        }
        require(upstream.servers.contains { !$0.isBackup }, "upstream \(upstream.name) of only backups")
        require(ConfigBuilder.upstreamKeepaliveRange.contains(upstream.keepalive), "upstream_keepalive \(upstream.keepalive)")
        checkDuration(upstream.keepaliveTimeout, "upstream_keepalive_timeout")
        checkPool(upstream)
    }
    require(Set(config.upstreams.map(\.name)).count == config.upstreams.count, "duplicate upstream names")
    let router = Router(routes: config.routes)
    for route in config.routes {
        require(config.upstream(named: route.upstreamName) != nil, "route \(route.prefix) names unknown \(route.upstreamName)")
        require(ConfigBuilder.prefixProblem(route.prefix) == nil, "route prefix \(route.prefix)")
        require(router.route(forPath: route.prefix)?.prefix == route.prefix, "router does not find \(route.prefix)")
        checkStreamSettings(route.settings, "route \(route.prefix)")
    }
    checkStreamSettings(config.defaults, "defaults")
    let limits = config.limits
    for (name, duration) in [("client_header_timeout", limits.clientHeaderTimeout),
                             ("upstream_connect_timeout", limits.upstreamConnectTimeout),
                             ("upstream_header_timeout", limits.upstreamHeaderTimeout),
                             ("keepalive_timeout", limits.keepaliveTimeout)] {
        checkDuration(duration, name)
    }
    require(ConfigBuilder.maxConnectionsRange.contains(limits.maxConnections), "max_connections \(limits.maxConnections)")
    require(ConfigBuilder.maxHeaderBytesRange.contains(limits.maxHeaderBytes), "max_header_size \(limits.maxHeaderBytes)")
    require(ConfigBuilder.maxBufferedBytesRange.contains(limits.maxBufferedBytes), "max_buffer_size \(limits.maxBufferedBytes)")
    for size in [limits.maxHeaderBytes, limits.maxBufferedBytes] {
        require(ConfigValue.parseSize(ConfigValue.formatSize(size)) == size, "size \(size) round trip")
    }
}

/// Drives the upstream's pool through a few rounds of picks, failures and successes: every attempt order holds
/// every server exactly once, and the first pick is an available primary whenever one is available.
private func checkPool(_ upstream: Upstream) {
    var pool = UpstreamPool(servers: upstream.servers)
    var now: UInt64 = 1
    for round in 0..<(3 * upstream.servers.count + 3) {
        let order = pool.attemptOrder(now: now)
        require(order.sorted() == Array(upstream.servers.indices), "attempt order \(order) of \(upstream.name)")
        let availablePrimary = upstream.servers.indices.contains { !upstream.servers[$0].isBackup && pool.isAvailable(server: $0, now: now) }
        if availablePrimary {
            require(!upstream.servers[order[0]].isBackup, "backup picked while a primary is available in \(upstream.name)")
        }
        if round % 3 == 2 {
            _ = pool.noteSuccess(server: order[0], now: now)
        } else {
            _ = pool.noteFailure(server: order[0], now: now)
        }
        now += 1_000_000_000
    }
}

private func checkDuration(_ duration: Duration, _ what: String) {
    require(ConfigBuilder.durationRange.contains(duration), "\(what) \(duration) out of range")
    let text = ConfigValue.formatDuration(duration)
    require(ConfigValue.parseDuration(text) == duration, "\(what) \(duration) formats as \(text), which does not re-parse")
}

private func checkStreamSettings(_ settings: StreamSettings, _ what: String) {
    checkDuration(settings.idleTimeout, "\(what) idle_timeout")
    require(settings.heartbeatFraction > 0 && settings.heartbeatFraction < 1, "\(what) heartbeat_fraction \(settings.heartbeatFraction)")
    require(ConfigBuilder.commentProblem(settings.heartbeatComment) == nil, "\(what) heartbeat_comment")
    if let retry = settings.sseRetry { checkDuration(retry, "\(what) sse_retry") }
    checkDuration(settings.resumeWindow, "\(what) resume_window")
    checkDuration(settings.resumeBackoffMin, "\(what) resume_backoff minimum")
    checkDuration(settings.resumeBackoffMax, "\(what) resume_backoff maximum")
    require(settings.resumeBackoffMin <= settings.resumeBackoffMax, "\(what) resume_backoff \(settings.resumeBackoffMin)..\(settings.resumeBackoffMax)")
    // The proxy schedules heartbeats in whole nanoseconds; an interval of 0 ns makes every poll due.
    let interval = settings.heartbeatInterval
    let (seconds, attoseconds) = interval.components
    require(seconds > 0 || attoseconds >= 1_000_000_000,
            "\(what): idle_timeout \(settings.idleTimeout) x heartbeat_fraction \(settings.heartbeatFraction) "
                + "gives a heartbeat interval of \(interval), under 1 ns")
    require(interval <= settings.idleTimeout, "\(what) heartbeat interval \(interval) over idle_timeout")
    // The comment goes on the wire as one SSE comment line: it must not break the line.
    var tracker = SSEStreamTracker()
    guard let bytes = tracker.heartbeat(comment: settings.heartbeatComment) else { invariantFailure("no heartbeat at start") }
    require(bytes.filter({ $0 == 0x0A || $0 == 0x0D }).count == 1 && bytes.last == 0x0A, "\(what) heartbeat bytes \(escaped(bytes))")
}
