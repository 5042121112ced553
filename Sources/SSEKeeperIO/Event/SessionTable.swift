/// A connection a loop keeps alive while its sockets are registered (`EventLoop.sessions`).
protocol LoopSession: DeadlineTarget {
    /// Its place in its loop's `SessionTable`: written by the table only, -1 while not in one. A stored
    /// `var sessionSlot = -1` in each session.
    var sessionSlot: Int { get set }
}

/// The live sessions of a loop, each in a slot it knows (`LoopSession.sessionSlot`), freed slots reused.
///
/// Why not a dictionary by `ObjectIdentifier`: an insert and a remove hashed the identifier twice per connection,
/// about 400 instructions (callgrind, `Benchmarks/instructions.py --workloads connrate`); here each is an array store.
///
/// Confinement: the loop's queue, like the rest of `EventLoop`.
struct SessionTable {
    private var slots: [(any LoopSession)?] = []
    private var freeSlots: [Int] = []
    /// The sessions in the table: every slot but the free ones holds one.
    var count: Int { slots.count - freeSlots.count }

    /// Adds `session`; nothing when it is in the table already.
    mutating func insert(_ session: any LoopSession) {
        if contains(session) { return }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = session
        } else {
            slot = slots.count
            slots.append(session)
        }
        session.sessionSlot = slot
    }

    /// Removes `session`; nothing when it is not in the table (it may end twice: leaving for another loop, then
    /// closing).
    mutating func remove(_ session: any LoopSession) {
        guard contains(session) else { return }
        let slot = session.sessionSlot
        slots[slot] = nil
        freeSlots.append(slot)
        session.sessionSlot = -1
    }

    /// Whether `session` is in this table (its slot holds it: a slot number from another loop's table is not
    /// enough).
    func contains(_ session: any LoopSession) -> Bool {
        let slot = session.sessionSlot
        return slot >= 0 && slot < slots.count && slots[slot] === session
    }

    /// The sessions, in no particular order.
    var values: [AnyObject] { slots.compactMap { $0 } }
}
