import Dispatch
import Glibc
import SSEKeeperCore

/// What the admin endpoint and the signal handlers read from a running server: the draining flag, the metrics
/// exposition, the open streams, and the access log's reopening.
extension ProxyServer {
    /// The port of the admin endpoint, when `admin_listen` is set and the server started (useful with port 0).
    public var adminPort: UInt16? { admin?.address.port }

    /// Reopens the access log file (SIGUSR1, after logrotate renamed it); logs the outcome. Safe from any thread.
    public func reopenLogs() {
        let context = runtime.context
        guard let path = context.accessLog.path else {
            context.logger.info("SIGUSR1: no access_log file to reopen")
            return
        }
        do {
            try context.accessLog.reopen()
            context.logger.info("reopened access_log \(path)")
        } catch {
            context.logger.error("\(error); still writing to the previous file")
        }
    }

    /// The `/metrics` page: each loop's figures copied on its own queue (a `sync` hop, so never call this from a
    /// loop of this server), merged, and rendered.
    func metricsExposition() -> String {
        var snapshot = MetricsSnapshot()
        for loop in group.loops {
            dispatchPrecondition(condition: .notOnQueue(loop.queue))
            snapshot.merge(loop.queue.sync { loop.metrics.snapshot() })
        }
        snapshot.includeRoutes(config.routes.map(\.prefix) + [MetricsSnapshot.unroutedLabel])
        let process = MetricsExposition.ProcessState(
            openConnections: runtime.openConnections.load(ordering: .relaxed), draining: isDraining,
            eventLoops: group.loops.count)
        return MetricsExposition.render(snapshot, process: process)
    }

    /// The `/streams` page: a row per open SSE stream, collected on each loop's queue (same rule as above).
    func streamsDocument() -> String {
        var rows: [StreamRow] = []
        for loop in group.loops {
            dispatchPrecondition(condition: .notOnQueue(loop.queue))
            rows += loop.queue.sync {
                let now = EventLoop.now()
                return loop.sessions.values.flatMap { ($0 as? ClientConnection)?.streamRows(now: now) ?? [] }
                    + loop.rideThrough.detachedOldestFirst.compactMap { $0.streamRow(now: now) }
            }
        }
        return StreamRow.json(rows)
    }
}
