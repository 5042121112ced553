/// The live figures of one route on one event loop: a box so the sessions of that loop can update the same
/// `RouteCounters` in place (`metrics.counters.bytesOut &+= n`, no lookup, no allocation).
///
/// Confinement: not thread-safe; owned by one `LoopMetrics`, touched only on its loop's queue.
public final class RouteMetrics {
    /// The route prefix this box counts (or `MetricsSnapshot.unroutedLabel`).
    public let label: String
    /// The figures, updated in place: through addressors over storage of the box's own (`CounterStorage` says why).
    public var counters: RouteCounters {
        unsafeAddress { UnsafePointer(storage.pointer) }
        unsafeMutableAddress { storage.pointer }
    }
    private let storage = CounterStorage(RouteCounters())

    public init(label: String) {
        self.label = label
    }
}
