import Glibc
import SSEKeeperCore

/// What a session tells the metrics, the access log and `/streams`. Every update is a plain integer operation
/// on the loop's own `LoopMetrics` (the session runs on that loop's queue), so none takes a lock.
extension ProxySession {
    /// Counts a finished request in `metrics` (its status class) and writes its access record.
    func writeAccess(_ record: AccessLogRecord, counting metrics: RouteMetrics) {
        metrics.counters.countRequest(status: record.status)
        context.accessLog.write(record)
    }

    /// The client is gone: shut the upstream socket before anything else (logging included), and record how long
    /// that took from the moment the close was noticed (`ssekeeper_teardown_seconds`).
    func dropUpstreamAfterClientClose() {
        guard upstream != nil else { return }
        let noticed = EventLoop.now()
        dropUpstream()
        exchange?.metrics.counters.teardown.observe(nanos: EventLoop.now() &- noticed)
    }

    /// The `ConnectErrorKind` of a failed connect's errno (nil: no errno, e.g. a name that did not resolve).
    static func connectErrorKind(_ code: Int32?) -> ConnectErrorKind {
        switch code {
        case ECONNREFUSED?: .refused
        case ETIMEDOUT?: .timeout
        case ECONNRESET?, ECONNABORTED?: .reset
        case EHOSTUNREACH?, ENETUNREACH?, EHOSTDOWN?, ENETDOWN?: .unreachable
        case EMFILE?, ENFILE?, ENOBUFS?, ENOMEM?, EADDRNOTAVAIL?: .resources
        default: .other
        }
    }

    /// This session's row in `/streams`, when it is streaming an SSE response.
    func streamRow(now: UInt64) -> StreamRow? {
        // A stream in a resume gap (`upstream_resume`) is still open for its client.
        guard let exchange, phase == .streaming || exchange.resume != nil, exchange.isSSE, exchange.streamStartedAt != 0
        else { return nil }
        return StreamRow(
            route: exchange.route.prefix, path: exchange.path, client: clientAddress, upstream: exchange.server,
            ageNanos: now &- exchange.streamStartedAt, bytesIn: exchange.bytesReceived, bytesOut: exchange.bytesSent,
            lastActivityNanos: now &- exchange.lastUpstreamBytesAt, heartbeats: exchange.heartbeats?.sent ?? 0,
            heartbeatsSkipped: exchange.heartbeats?.skipped ?? 0)
    }
}
