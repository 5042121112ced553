/// Something a `DeadlineHeap` schedules: it carries its own position in the heap, so the heap can move it to another
/// deadline or take it out early in O(log n), with at most one entry per member.
///
/// `heapSlot` is written only by the heap: -1 while the member is not scheduled. A member is usually a class (a
/// stored `var heapSlot = -1`), or a struct that forwards to one (hence the nonmutating setter).
public protocol DeadlineHeapMember {
    var heapSlot: Int { get nonmutating set }
}

/// A min-heap of deadlines (UInt64 monotonic nanoseconds), one entry per member, four children per node.
///
/// One event loop keeps one heap and wakes at `earliest`, instead of keeping a Dispatch timer per
/// connection (a `DispatchSourceTimer` costs ~0.6 KiB and ~28 µs per firing, see docs/dispatch-history.md).
/// Scheduling a member that is already in the heap moves its one entry to the new deadline (as nginx's timers do),
/// and a member that has ended is taken out with `remove`, so the heap holds live deadlines only: no stale entry
/// keeps an ended connection (and what it references) alive until its old deadline, and the heap stays as small as
/// the number of members waiting. (It was lazy before:
/// at 1,000 new streams a second every stream's 10 s header and 5 s connect entries stayed, keeping tens of
/// thousands of ended connections alive and making each pop sift through them.)
///
/// `@inlinable` so the shell's loops get a copy specialised for their payload: unspecialised, every sift step went
/// through generic metadata and value witnesses (measured with `perf`: a third of ssekeeper's user time at 9,000
/// heartbeats a second). Sifting moves a hole instead of swapping, so each level moves one entry, not three.
/// Four children per node rather than two: a heap of 9,000 heartbeating streams is 7 levels deep instead of 14, and
/// each level a sift passes writes one member's `heapSlot`, a cache miss on an object elsewhere in memory, while the
/// extra children it compares are deadlines next to each other in `entries`.
@frozen
public struct DeadlineHeap<Payload: DeadlineHeapMember> {
    /// One scheduled deadline.
    @frozen
    public struct Entry {
        public var deadline: UInt64
        public var payload: Payload

        @inlinable
        init(deadline: UInt64, payload: Payload) {
            self.deadline = deadline
            self.payload = payload
        }
    }

    @usableFromInline
    var entries: [Entry] = []

    @inlinable
    public init() {}

    /// Number of members scheduled.
    @inlinable
    public var count: Int { entries.count }

    /// Whether nothing is scheduled.
    @inlinable
    public var isEmpty: Bool { entries.isEmpty }

    /// The earliest deadline, or nil when empty.
    @inlinable
    public var earliest: UInt64? { entries.first?.deadline }

    /// The deadline `payload` is scheduled at, or nil when it is not in the heap.
    @inlinable
    public func deadline(of payload: Payload) -> UInt64? {
        let slot = payload.heapSlot
        return slot >= 0 && slot < entries.count ? entries[slot].deadline : nil
    }

    /// Schedules `payload` at `deadline`; one already in the heap moves there (earlier or later). O(log n).
    @inlinable
    public mutating func insert(_ payload: Payload, at deadline: UInt64) {
        let slot = payload.heapSlot
        if slot >= 0 && slot < entries.count {
            let previous = entries[slot].deadline
            entries[slot].deadline = deadline
            if deadline < previous { siftUp(slot) } else if deadline > previous { siftDown(slot) }
            return
        }
        entries.append(Entry(deadline: deadline, payload: payload))
        payload.heapSlot = entries.count - 1
        siftUp(entries.count - 1)
    }

    /// Takes `payload` out of the heap (nothing happens when it is not in it). O(log n).
    @inlinable
    public mutating func remove(_ payload: Payload) {
        let slot = payload.heapSlot
        guard slot >= 0 && slot < entries.count else { return }
        payload.heapSlot = -1
        let last = entries.removeLast()
        guard slot < entries.count else { return }
        entries[slot] = last
        last.payload.heapSlot = slot
        if slot > 0 && last.deadline < entries[Self.parent(of: slot)].deadline {
            siftUp(slot)
        } else {
            siftDown(slot)
        }
    }

    /// Removes and returns the earliest entry if its deadline is at or before `now`. O(log n).
    @inlinable
    public mutating func popExpired(now: UInt64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        first.payload.heapSlot = -1
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            last.payload.heapSlot = 0
            siftDown(0)
        }
        return first
    }

    /// Children per node.
    @usableFromInline
    static var arity: Int { 4 }

    @inlinable
    static func parent(of slot: Int) -> Int { (slot - 1) / arity }

    // The sifts move entries with unsafe moves rather than copies: a copy of an entry retains its payload (a class
    // reference, or an existential of one) and the overwritten slot releases one, two atomic operations per level
    // on objects scattered in memory (measured with `perf` at 9,000 heartbeats a second: `swift_retain` was the
    // busiest user-space symbol, 5.7 % of ssekeeper's samples, with `siftDown` next). The entry being sifted is
    // moved out, which leaves a hole; each level moves the child or parent into the hole, and the entry is moved
    // back in at the end. Nothing between can trap, so the buffer is never left with a hole.

    @inlinable
    mutating func siftUp(_ start: Int) {
        entries.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let deadline = base[start].deadline
            // The parent of `hole`, when it is later than `deadline`.
            func laterParent(_ hole: Int) -> Int? {
                guard hole > 0 else { return nil }
                let parent = Self.parent(of: hole)
                return deadline < base[parent].deadline ? parent : nil
            }
            guard var parent = laterParent(start) else { return }
            let moving = (base + start).move()
            var hole = start
            while true {
                (base + hole).moveInitialize(from: base + parent, count: 1)
                base[hole].payload.heapSlot = hole
                hole = parent
                guard let next = laterParent(hole) else { break }
                parent = next
            }
            moving.payload.heapSlot = hole
            (base + hole).initialize(to: moving)
        }
    }

    @inlinable
    mutating func siftDown(_ start: Int) {
        entries.withUnsafeMutableBufferPointer { buffer in
            let count = buffer.count
            let base = buffer.baseAddress!
            let deadline = base[start].deadline
            // The earliest child of `hole`, when it is earlier than `deadline`.
            func earlierChild(_ hole: Int) -> Int? {
                let first = Self.arity * hole + 1
                guard first < count else { return nil }
                var smallest = first
                for child in (first + 1)..<min(first + Self.arity, count)
                where base[child].deadline < base[smallest].deadline {
                    smallest = child
                }
                return base[smallest].deadline < deadline ? smallest : nil
            }
            guard var child = earlierChild(start) else { return }
            let moving = (base + start).move()
            var hole = start
            while true {
                (base + hole).moveInitialize(from: base + child, count: 1)
                base[hole].payload.heapSlot = hole
                hole = child
                guard let next = earlierChild(hole) else { break }
                child = next
            }
            moving.payload.heapSlot = hole
            (base + hole).initialize(to: moving)
        }
    }
}
