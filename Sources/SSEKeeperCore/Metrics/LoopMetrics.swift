/// Every figure one event loop keeps: a `RouteMetrics` per route label, and the process-wide counters.
///
/// Confinement: not thread-safe. The shell creates one per event loop and touches it only on that loop's queue;
/// a scrape hops onto the queue and takes `snapshot()`, then merges the loops' snapshots. Route boxes are made on
/// first use and never removed, so counters survive a reload that drops a route (Prometheus counters must not
/// go backwards while the process lives).
public final class LoopMetrics {
    /// Confined to one loop, and no access calls back into this object: the exclusivity check is off.
    @exclusivity(unchecked) private var routes: [String: RouteMetrics] = [:]
    /// Counters that belong to no route: through addressors over storage of their own (`CounterStorage` says why).
    public var process: ProcessCounters {
        unsafeAddress { UnsafePointer(processStorage.pointer) }
        unsafeMutableAddress { processStorage.pointer }
    }
    private let processStorage = CounterStorage(ProcessCounters())

    public init() {}

    /// The box for `label` (a route prefix, or `MetricsSnapshot.unroutedLabel`), made on first use.
    /// One dictionary lookup: call it once per request, keep the box for the events.
    public func route(_ label: String) -> RouteMetrics {
        if let existing = routes[label] { return existing }
        let created = RouteMetrics(label: label)
        routes[label] = created
        return created
    }

    /// The box for requests answered by ssekeeper itself before or without a route (rejections, 404, the probe).
    public var unrouted: RouteMetrics { route(MetricsSnapshot.unroutedLabel) }

    /// A copy of every figure, sharing no storage with the live ones.
    public func snapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot()
        for (label, box) in routes { snapshot.routes[label] = box.counters.detachedCopy() }
        snapshot.process = process.detachedCopy()
        return snapshot
    }
}
