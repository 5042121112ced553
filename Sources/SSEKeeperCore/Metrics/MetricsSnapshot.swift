/// Every figure of the process at one moment: the merge of each loop's `LoopMetrics.snapshot()`.
public struct MetricsSnapshot: Sendable, Equatable {
    /// The `route` label of requests that matched no route.
    public static let unroutedLabel = "none"

    /// Figures by route label.
    public var routes: [String: RouteCounters] = [:]
    /// Figures that belong to no route.
    public var process = ProcessCounters()

    public init() {}

    /// Adds another loop's snapshot.
    public mutating func merge(_ other: MetricsSnapshot) {
        for (label, counters) in other.routes {
            if routes[label] == nil {
                routes[label] = counters
            } else {
                routes[label]!.merge(counters)
            }
        }
        process.merge(other.process)
    }

    /// Adds empty figures for every label in `labels` that has none yet, so each configured route (and the
    /// unrouted label) has its series from the first scrape on, before any traffic.
    public mutating func includeRoutes(_ labels: [String]) {
        for label in labels where routes[label] == nil { routes[label] = RouteCounters() }
    }
}
