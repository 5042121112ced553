/// Something a `DeadlineHeap` schedules: it carries its own position in the heap, so the heap can move it to another
/// deadline or take it out early in O(log n), with at most one entry per member.
///
/// `heapSlot` is written only by the heap: -1 while the member is not scheduled. A member is usually a class (a
/// stored `var heapSlot = -1`), or a struct that forwards to one (hence the nonmutating setter).
public protocol DeadlineHeapMember {
    var heapSlot: Int { get nonmutating set }
}

/// A binary min-heap of deadlines (UInt64 monotonic nanoseconds), one entry per member.
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
/// heartbeats a second). Sifting moves a hole instead of swapping, so each level copies one entry, not three.
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
        if slot > 0 && last.deadline < entries[(slot - 1) / 2].deadline {
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

    @inlinable
    mutating func siftUp(_ start: Int) {
        entries.withUnsafeMutableBufferPointer { buffer in
            let moving = buffer[start]
            var hole = start
            while hole > 0 {
                let parent = (hole - 1) / 2
                guard moving.deadline < buffer[parent].deadline else { break }
                buffer[hole] = buffer[parent]
                buffer[hole].payload.heapSlot = hole
                hole = parent
            }
            if hole != start {
                buffer[hole] = moving
                moving.payload.heapSlot = hole
            }
        }
    }

    @inlinable
    mutating func siftDown(_ start: Int) {
        entries.withUnsafeMutableBufferPointer { buffer in
            let count = buffer.count
            let moving = buffer[start]
            var hole = start
            while true {
                let left = 2 * hole + 1
                guard left < count else { break }
                var smallest = left
                let right = left + 1
                if right < count, buffer[right].deadline < buffer[left].deadline { smallest = right }
                guard buffer[smallest].deadline < moving.deadline else { break }
                buffer[hole] = buffer[smallest]
                buffer[hole].payload.heapSlot = hole
                hole = smallest
            }
            if hole != start {
                buffer[hole] = moving
                moving.payload.heapSlot = hole
            }
        }
    }
}
