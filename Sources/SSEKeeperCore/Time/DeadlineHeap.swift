/// Something a `DeadlineHeap` schedules: it carries its handle in the heap, so the heap can move it to another
/// deadline or take it out early in O(log n), with at most one entry per member.
///
/// `heapSlot` is written only by the heap: -1 while the member is not scheduled, its handle while it is (an index
/// into the heap's table of entry positions, fixed while the member stays in the heap). A member is usually a class
/// (a stored `var heapSlot = -1`), or a struct that forwards to one (hence the nonmutating setter).
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
/// Four children per node rather than two: a heap of 9,000 heartbeating streams is 7 levels deep instead of 14.
///
/// Where each member's entry is lives in the heap's own table (`positions`, by handle), not in the member: a member
/// learns its handle when it is scheduled and forgets it when it leaves, and the sifts in between write the table.
/// When the member kept its position, every level a sift passed wrote a member elsewhere in memory through its
/// setter, a reference count up and down around the call (callgrind: 4.2 of each per heartbeat at 500 streams, the
/// sift's largest part; each a cache miss at 9,000).
@frozen
public struct DeadlineHeap<Payload: DeadlineHeapMember> {
    /// One scheduled deadline.
    @frozen
    public struct Entry {
        public var deadline: UInt64
        public var payload: Payload
        /// The member's handle: `positions[handle]` is this entry's index.
        @usableFromInline
        var handle: Int

        @inlinable
        init(deadline: UInt64, payload: Payload, handle: Int) {
            self.deadline = deadline
            self.payload = payload
            self.handle = handle
        }
    }

    @usableFromInline
    var entries: [Entry] = []
    /// By handle: the index of the handle's entry in `entries`, or, for a handle not in use, `-2 - next` where
    /// `next` is the next unused handle (-1: none), so unused handles form a list without storage of their own.
    @usableFromInline
    var positions: [Int] = []
    /// The first unused handle, or -1 (then a new one is added to `positions`).
    @usableFromInline
    var freeHandle = -1

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
    public var earliest: UInt64? { entries.isEmpty ? nil : entries[0].deadline }  // `first` would copy the entry

    /// The deadline `payload` is scheduled at, or nil when it is not in the heap.
    @inlinable
    public func deadline(of payload: Payload) -> UInt64? {
        index(of: payload.heapSlot).map { entries[$0].deadline }
    }

    /// The index in `entries` of the entry with `handle`, or nil when no entry has it (-1, or a handle this heap did
    /// not give).
    @inlinable
    func index(of handle: Int) -> Int? {
        guard handle >= 0, handle < positions.count else { return nil }
        let index = positions[handle]
        guard index >= 0, index < entries.count, entries[index].handle == handle else { return nil }
        return index
    }

    @inlinable
    mutating func takeHandle() -> Int {
        guard freeHandle >= 0 else {
            positions.append(-1)
            return positions.count - 1
        }
        let handle = freeHandle
        freeHandle = -2 - positions[handle]
        return handle
    }

    @inlinable
    mutating func releaseHandle(_ handle: Int) {
        positions[handle] = -2 - freeHandle
        freeHandle = handle
    }

    /// Schedules `payload` at `deadline`; one already in the heap moves there (earlier or later). O(log n).
    @inlinable
    public mutating func insert(_ payload: Payload, at deadline: UInt64) {
        if let index = index(of: payload.heapSlot) {
            let previous = entries[index].deadline
            entries[index].deadline = deadline
            if deadline < previous {
                Self.siftUp(index, &entries, &positions)
            } else if deadline > previous {
                Self.siftDown(index, &entries, &positions)
            }
            return
        }
        let handle = takeHandle()
        payload.heapSlot = handle
        entries.append(Entry(deadline: deadline, payload: payload, handle: handle))
        positions[handle] = entries.count - 1
        Self.siftUp(entries.count - 1, &entries, &positions)
    }

    /// Takes `payload` out of the heap (nothing happens when it is not in it). O(log n).
    @inlinable
    public mutating func remove(_ payload: Payload) {
        guard let index = index(of: payload.heapSlot) else { return }
        _ = removeEntry(at: index)
    }

    /// Removes and returns the earliest entry if its deadline is at or before `now`. O(log n).
    @inlinable
    public mutating func popExpired(now: UInt64) -> Entry? {
        // Most calls find nothing due: read the deadline in place (`first` would copy the entry, a retain and a
        // release of its member).
        guard !entries.isEmpty, entries[0].deadline <= now else { return nil }
        return removeEntry(at: 0)
    }

    /// Takes the entry at `index` out by moves and frees its member's handle; the last entry takes its place and
    /// sifts whichever way its deadline needs (from the root, always down). O(log n).
    @inlinable
    mutating func removeEntry(at index: Int) -> Entry {
        let last = entries.count - 1
        Self.moveToEnd(index, &entries)
        let removed = entries.removeLast()
        removed.payload.heapSlot = -1
        releaseHandle(removed.handle)
        if index < last {
            positions[entries[index].handle] = index
            if index > 0 && entries[index].deadline < entries[Self.parent(of: index)].deadline {
                Self.siftUp(index, &entries, &positions)
            } else {
                Self.siftDown(index, &entries, &positions)
            }
        }
        return removed
    }

    /// Swaps the entry at `index` with the last one, by moves: the entry that leaves goes out last, and nothing is
    /// retained on the way (`swapAt` cost about 55 instructions a call; callgrind).
    @inlinable
    static func moveToEnd(_ index: Int, _ entries: inout [Entry]) {
        let last = entries.count - 1
        guard index != last else { return }
        entries.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let leaving = (base + index).move()
            (base + index).moveInitialize(from: base + last, count: 1)
            (base + last).initialize(to: leaving)
        }
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
    // back in at the end. Nothing between can trap, so the buffer is never left with a hole. Each move writes the
    // moved entry's new index into `positions`, an array of integers beside the entries: no member is touched.

    @inlinable @inline(__always)
    static func siftUp(_ start: Int, _ entries: inout [Entry], _ positions: inout [Int]) {
        sift(start, upward: true, &entries, &positions)
    }

    @inlinable @inline(__always)
    static func siftDown(_ start: Int, _ entries: inout [Entry], _ positions: inout [Int]) {
        sift(start, upward: false, &entries, &positions)
    }

    /// Moves the entry at `start` towards the root (`upward`) or the leaves until it is in heap order.
    @inlinable @inline(__always)
    static func sift(_ start: Int, upward: Bool, _ entries: inout [Entry], _ positions: inout [Int]) {
        positions.withUnsafeMutableBufferPointer { positions in
            entries.withUnsafeMutableBufferPointer { buffer in
                let count = buffer.count
                let base = buffer.baseAddress!
                let deadline = base[start].deadline
                // Where the hole goes next: up, the parent of `hole` when it is later than `deadline`; down, the
                // earliest child of `hole` when it is earlier than `deadline`.
                func next(_ hole: Int) -> Int? {
                    if upward {
                        guard hole > 0 else { return nil }
                        let parent = Self.parent(of: hole)
                        return deadline < base[parent].deadline ? parent : nil
                    }
                    let first = Self.arity * hole + 1
                    guard first < count else { return nil }
                    var smallest = first
                    for child in (first + 1)..<min(first + Self.arity, count)
                    where base[child].deadline < base[smallest].deadline {
                        smallest = child
                    }
                    return base[smallest].deadline < deadline ? smallest : nil
                }
                guard var from = next(start) else { return }
                let moving = (base + start).move()
                var hole = start
                while true {
                    (base + hole).moveInitialize(from: base + from, count: 1)
                    positions[base[hole].handle] = hole
                    hole = from
                    guard let following = next(hole) else { break }
                    from = following
                }
                positions[moving.handle] = hole
                (base + hole).initialize(to: moving)
            }
        }
    }
}
