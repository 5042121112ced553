/// One value in memory of its own, freed with its owner: a metrics box exposes its counters through addressors over
/// it (`RouteMetrics.counters`, `LoopMetrics.process`) rather than as a stored property.
///
/// Why: the shell (another module) updates those counters several times per new stream and once per upstream read,
/// and every access to a class's stored property from there ran the runtime's exclusivity check (about 70
/// instructions; `@exclusivity(unchecked)` does not reach across the module boundary). Addressed memory is not
/// checked. The boxes are confined to one loop and every update is a plain modify that calls nothing back, so
/// accesses never overlap.
struct CounterStorage<Value>: ~Copyable {
    let pointer: UnsafeMutablePointer<Value>

    init(_ value: Value) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: value)
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
