import SSEKeeperCore

/// What a parsed request becomes, whatever protocol brought it: the probe, an answer of ssekeeper's own, a CORS
/// preflight, or a new `ProxyStream` (not started yet) for its route. `HTTP1Connection` and `HTTP2StreamClient`
/// both start requests through `RequestStart.make`, so routing, framing checks, ride-through reconnects and the
/// upstream head are decided in one place.
enum RequestStart {
    /// The request is for the probe endpoint (`probe_path`).
    case probe
    /// Answer with `status` (an error of ssekeeper's own) and end the request as `end`.
    case answer(status: Int, detail: String, end: RequestEnd)
    /// A CORS preflight answered here with `fields`, counted in `route`'s figures.
    case preflight(fields: [HTTPField], route: Route)
    /// A stream for the request: `framing` is its body's, `reconnect` the stamped id it carries on a ride-through
    /// route (it may name a stream to attach to).
    case stream(ProxyStream, framing: BodyFraming, reconnect: StampedEventID?)

    /// Decides what `head` becomes for `client` under `context`.
    static func make(_ head: RequestHead, client: StreamClient, context: ProxyContext, loop: EventLoop,
                     runtime: ProxyRuntime) -> RequestStart {
        if let probePath = context.config.probe.path, head.path == probePath { return .probe }
        let limits = context.config.limits
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming()
        } catch {
            return .answer(status: error.status, detail: error.description, end: .rejected)
        }
        guard let route = context.router.route(forPath: head.path) else {
            return .answer(status: 404, detail: "no route for \(head.path)", end: .completed)
        }
        if case .answerPreflight(let fields) = CORSPolicy(route.settings).decide(head) {
            return .preflight(fields: fields, route: route)
        }
        // Client ride-through: a stamped `Last-Event-ID` may name a stream to attach to; the backend only ever
        // sees its own part of the id.
        let ridesThrough = route.settings.clientResumeWindow != nil
        let reconnect = ridesThrough ? RideThroughReconnect.stampedID(in: head) : nil
        let upstreamRequest = RideThroughReconnect.upstreamHead(head, stamped: reconnect)
        let body: RequestBodyForwarder
        do {
            body = try RequestBodyForwarder(framing: framing, maxBodyBytes: limits.maxBodyBytes.map { UInt64($0) },
                                            digestsBody: ridesThrough)
        } catch {
            return .answer(status: error.status, detail: error.description, end: .rejected)
        }
        let keepsConnections = (context.upstreams[route.upstreamName]?.keepalive ?? 0) > 0
        let acceptsEventStream = UpstreamRequestBuilder.acceptsEventStream(head)
        let upstreamHead = UpstreamRequestBuilder.build(
            upstreamRequest, framing: framing, clientAddress: client.clientHost, clientProtocol: client.clientProtocol,
            keepAlive: keepsConnections, acceptsEventStream: acceptsEventStream)
        let stream = ProxyStream(
            head: head, upstreamRequest: upstreamRequest, route: route, body: body, upstreamHead: upstreamHead,
            client: client, loop: loop, context: context, runtime: runtime, reconnect: reconnect,
            acceptsEventStream: acceptsEventStream)
        return .stream(stream, framing: framing, reconnect: reconnect)
    }
}
