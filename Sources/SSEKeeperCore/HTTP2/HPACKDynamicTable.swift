/// The dynamic table of one HPACK context (RFC 7541 §2.3.2, §4): a FIFO of fields, newest first, bounded by a
/// maximum size in octets.
///
/// An entry's size is its name's length plus its value's length plus 32 (§4.1). Adding an entry evicts the oldest
/// until it fits; an entry larger than the maximum size empties the table and is not added (§4.4). Lowering the
/// maximum size evicts until the table fits (§4.3).
///
/// Entries live in a ring of slots allocated once for the most entries the maximum size allows (each entry takes at
/// least 32 octets), so adding and evicting never reallocate the ring; only raising the maximum size beyond what
/// the ring was sized for (`slotCapacityBytes`) grows it once.
public struct HPACKDynamicTable: Sendable {
    /// The overhead counted per entry on top of its name and value: 32 octets (§4.1).
    public static let entryOverhead = 32

    /// The size of an entry with this name and value (§4.1).
    public static func entrySize(name: [UInt8], value: [UInt8]) -> Int {
        name.count + value.count + entryOverhead
    }

    private struct Entry: Sendable {
        var name: [UInt8]
        var value: [UInt8]
    }

    /// The ring; `slots[oldest]` is the oldest entry, the newest is `count - 1` slots later.
    private var slots: [Entry?]
    private var oldest = 0

    /// The number of entries.
    public private(set) var count = 0
    /// The sum of the entries' sizes (§4.1); never above `maxSize`.
    public private(set) var size = 0
    /// The maximum size in octets (§4.2), as last set by a size update or the initial value.
    public private(set) var maxSize: Int

    /// Creates an empty table of `maxSize` octets whose ring is sized for `slotCapacityBytes` (at least `maxSize`).
    public init(maxSize: Int, slotCapacityBytes: Int? = nil) {
        precondition(maxSize >= 0, "negative HPACK table size")
        self.maxSize = maxSize
        let capacity = max(slotCapacityBytes ?? maxSize, maxSize) / HPACKDynamicTable.entryOverhead
        slots = Array(repeating: nil, count: max(1, capacity))
    }

    /// The entry at `position`, 0 being the newest (HPACK index 62 is position 0, §2.3.3), or nil past the end.
    public func entry(at position: Int) -> (name: [UInt8], value: [UInt8])? {
        guard position >= 0 && position < count else { return nil }
        let entry = slots[(oldest + count - 1 - position) % slots.count]!
        return (entry.name, entry.value)
    }

    /// The entries, newest first.
    public var entries: [(name: [UInt8], value: [UInt8])] {
        (0..<count).map { entry(at: $0)! }
    }

    /// Adds an entry as the newest, evicting the oldest ones until it fits (§4.4).
    public mutating func add(name: [UInt8], value: [UInt8]) {
        let entrySize = HPACKDynamicTable.entrySize(name: name, value: value)
        guard entrySize <= maxSize else {
            evict(toFit: 0)
            return
        }
        evict(toFit: maxSize - entrySize)
        if count == slots.count { grow(to: count + 1) }
        slots[(oldest + count) % slots.count] = Entry(name: name, value: value)
        count += 1
        size += entrySize
    }

    /// Sets the maximum size (a dynamic table size update, §4.3, §6.3), evicting the oldest entries until the table
    /// fits.
    public mutating func setMaxSize(_ newMaxSize: Int) {
        precondition(newMaxSize >= 0, "negative HPACK table size")
        maxSize = newMaxSize
        evict(toFit: newMaxSize)
    }

    /// The position (0 = newest) of the newest entry with this name and value, and else of the newest with this
    /// name, with whether the value matched; nil when no entry has the name. Linear in `count`.
    public func search(name: [UInt8], value: [UInt8]) -> (position: Int, valueMatches: Bool)? {
        var nameMatch: Int?
        for position in 0..<count {
            let entry = slots[(oldest + count - 1 - position) % slots.count]!
            guard entry.name == name else { continue }
            if entry.value == value { return (position, true) }
            if nameMatch == nil { nameMatch = position }
        }
        return nameMatch.map { ($0, false) }
    }

    private mutating func evict(toFit limit: Int) {
        while size > limit, count > 0 {
            let entry = slots[oldest]!
            size -= HPACKDynamicTable.entrySize(name: entry.name, value: entry.value)
            slots[oldest] = nil
            oldest = (oldest + 1) % slots.count
            count -= 1
        }
        if count == 0 { oldest = 0 }
    }

    /// Re-lays the ring out oldest first in a larger array (only when the maximum size outgrew the ring).
    private mutating func grow(to minimumCount: Int) {
        var grown: [Entry?] = (0..<count).map { slots[(oldest + $0) % slots.count] }
        grown += Array(repeating: nil, count: max(minimumCount, maxSize / HPACKDynamicTable.entryOverhead) - count)
        slots = grown
        oldest = 0
    }
}
