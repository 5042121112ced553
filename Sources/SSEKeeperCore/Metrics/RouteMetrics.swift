/// The live figures of one route on one event loop: a box so the sessions of that loop can update the same
/// `RouteCounters` in place (`metrics.counters.bytesOut &+= n`, no lookup, no allocation).
///
/// Confinement: not thread-safe; owned by one `LoopMetrics`, touched only on its loop's queue.
public final class RouteMetrics {
    /// The route prefix this box counts (or `MetricsSnapshot.unroutedLabel`).
    public let label: String
    /// The figures, updated in place.
    ///
    /// Reached through addressors over storage of the box's own, not as a stored property: the shell (another
    /// module) updates them several times per new stream and once per upstream read, and every access to a class's
    /// stored property from there ran the runtime's exclusivity check (about 70 instructions; `@exclusivity(unchecked)`
    /// did not reach across the module boundary). The box is confined to one loop and every update is a plain modify
    /// that calls nothing back, so accesses never overlap.
    public var counters: RouteCounters {
        unsafeAddress { UnsafePointer(storage) }
        unsafeMutableAddress { storage }
    }
    private let storage: UnsafeMutablePointer<RouteCounters>

    public init(label: String) {
        self.label = label
        storage = .allocate(capacity: 1)
        storage.initialize(to: RouteCounters())
    }

    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}
