/// A binary min-heap of deadlines (UInt64 monotonic nanoseconds) with their payloads.
///
/// One event loop keeps one heap and one Dispatch timer armed at `earliest`, instead of a timer per
/// connection (a `DispatchSourceTimer` costs ~0.6 KiB and ~28 µs per firing, see shared/DISPATCH.md).
/// Entries are never removed early: callers invalidate them lazily (a connection compares the popped
/// deadline with the one it currently wants), which keeps every operation O(log n) with no index bookkeeping.
public struct DeadlineHeap<Payload> {
    /// One scheduled deadline.
    public struct Entry {
        public var deadline: UInt64
        public var payload: Payload
    }

    private var entries: [Entry] = []

    public init() {}

    /// Number of entries, stale ones included.
    public var count: Int { entries.count }

    /// Whether nothing is scheduled.
    public var isEmpty: Bool { entries.isEmpty }

    /// The earliest deadline, or nil when empty.
    public var earliest: UInt64? { entries.first?.deadline }

    /// Schedules `payload` at `deadline`. O(log n).
    public mutating func insert(_ payload: Payload, at deadline: UInt64) {
        entries.append(Entry(deadline: deadline, payload: payload))
        siftUp(entries.count - 1)
    }

    /// Removes and returns the earliest entry if its deadline is at or before `now`. O(log n).
    public mutating func popExpired(now: UInt64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
        return first
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = entries.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var smallest = left
            let right = left + 1
            if right < count, entries[right].deadline < entries[left].deadline { smallest = right }
            guard entries[smallest].deadline < entries[parent].deadline else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
