/// The live figures of one route on one event loop: a box so the sessions of that loop can update the same
/// `RouteCounters` in place (`metrics.counters.bytesOut &+= n`, no lookup, no allocation).
///
/// Confinement: not thread-safe; owned by one `LoopMetrics`, touched only on its loop's queue.
public final class RouteMetrics {
    /// The route prefix this box counts (or `MetricsSnapshot.unroutedLabel`).
    public let label: String
    /// The figures, updated in place. Confined to one loop (`LoopMetrics`), and every update is a plain modify that
    /// calls nothing back: accesses never overlap, so the runtime's exclusivity check (about 70 instructions per
    /// update, several per new stream and one per upstream read) is off.
    @exclusivity(unchecked) public var counters = RouteCounters()

    public init(label: String) {
        self.label = label
    }
}
