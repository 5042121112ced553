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
        // The path and the CORS decision are worked out once here and handed to the stream (each is a scan of
        // the head, the path a new string).
        let path = head.path
        if let probePath = context.config.probe.path, path == probePath { return .probe }
        let limits = context.config.limits
        let framing: BodyFraming
        do {
            framing = try head.bodyFraming()
        } catch {
            return .answer(status: error.status, detail: error.description, end: .rejected)
        }
        guard let (route, routeIndex) = context.router.match(path: path) else {
            return .answer(status: 404, detail: "no route for \(path)", end: .completed)
        }
        let cors = CORSPolicy(route.settings).decide(head)
        if case .answerPreflight(let fields) = cors {
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
        let upstream = context.upstreamsByRoute[routeIndex]
        let keepsConnections = upstream?.keepsConnections ?? false
        let acceptsEventStream = UpstreamRequestBuilder.acceptsEventStream(head)
        let upstreamHead = UpstreamRequestBuilder.build(
            upstreamRequest, framing: framing, clientAddress: client.clientHost, clientProtocol: client.clientProtocol,
            keepAlive: keepsConnections, acceptsEventStream: acceptsEventStream)
        let stream = ProxyStream(
            head: head, path: path, upstreamRequest: upstreamRequest, route: route, upstream: upstream, body: body,
            upstreamHead: upstreamHead, client: client, loop: loop, context: context, runtime: runtime,
            reconnect: reconnect, acceptsEventStream: acceptsEventStream, corsFields: cors.responseFields)
        return .stream(stream, framing: framing, reconnect: reconnect)
    }
}
