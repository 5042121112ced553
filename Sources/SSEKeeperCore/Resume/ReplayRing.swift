/// The most recent stamped events of one stream (issue 15, `client_resume_buffer`), so that a client that
/// reconnects with the `Last-Event-ID` `sk1.<token>.<seq>...` is given the events after `<seq>` before the live
/// stream goes on.
///
/// Events are appended in `seq` order (1, 2, 3, ...) as `EventIDStamper` reports them (`.held`), with the bytes the
/// client got. What is held is always the consecutive run `oldestPosition + 1 ... newestSeq`; a position in
/// `oldestPosition ... newestSeq` can be replayed.
///
/// The budget and the two retention rules:
/// - `.evictOldest`, while a client is attached: an append first evicts the oldest events until the new one fits
///   `budgetBytes`; an event larger than the budget empties the ring and is not held. A blip can be replayed as long
///   as the client missed at most a budget's worth.
/// - `.keepAll`, while no client is attached: nothing is ever evicted, since the client that comes back has seen
///   none of it. The shell stops reading the upstream instead (back-pressure, never silent loss): before each read
///   of at most `n` bytes it checks `isFull(for: n)`. Stamping adds an `id:` line per event and the assembler may
///   release a partial event held from before, so `heldBytes` may pass the budget by that much; it is still bounded.
/// Setting `retention` back to `.evictOldest` (a client attached again) evicts down to the budget at the next append.
///
/// An event that could not be held (`skip(seq:)`: it passed through the stamper over its limit) empties the ring:
/// no position before it can be replayed any more, whatever the retention. So does a gap in `seq`.
///
/// Storage is one byte array in which held events are contiguous, so a replay is one slice and a lookup is O(1). The
/// bytes of evicted events are removed lazily (when they are at least half of the array), so the array holds at most
/// about twice `heldBytes` plus the budget's slack; appends are amortized O(bytes).
public struct ReplayRing: Sendable {
    /// Whether the ring may evict to stay within its budget.
    public enum Retention: Sendable, Equatable {
        /// A client is attached: the oldest events are evicted to make room.
        case evictOldest
        /// No client is attached: nothing is evicted; the shell applies back-pressure (`isFull(for:)`).
        case keepAll
    }

    /// Default for `budgetBytes` (`client_resume_buffer 1m`).
    public static let defaultBudgetBytes = 1 << 20

    /// The bytes of events the ring aims to hold at most (`client_resume_buffer`).
    public let budgetBytes: Int
    /// The rule now in force; see the type's summary.
    public var retention: Retention
    /// The `<seq>` of the newest event appended or skipped; 0 before the first.
    public private(set) var newestSeq: UInt64 = 0
    /// The lowest position that can still be replayed: every event after it is held.
    public private(set) var oldestPosition: UInt64 = 0

    /// Held bytes, from `storageStart` on; the bytes before it belong to evicted events.
    private var storage: [UInt8] = []
    private var storageStart = 0
    /// The stream offset of `storage[0]` (bytes of events evicted and compacted away before it).
    private var storageOrigin = 0
    /// The stream offset just past each held event, from `endsStart` on: event `oldestPosition + 1 + i` ends at
    /// `ends[endsStart + i]`.
    private var ends: [Int] = []
    private var endsStart = 0

    /// An empty ring with the given budget (at least 1 byte).
    public init(budgetBytes: Int = ReplayRing.defaultBudgetBytes, retention: Retention = .evictOldest) {
        self.budgetBytes = max(1, budgetBytes)
        self.retention = retention
    }

    /// The bytes of the events held now.
    public var heldBytes: Int { storage.count - storageStart }
    /// How many events are held now.
    public var heldEventCount: Int { ends.count - endsStart }

    /// Whether an event of `nextEventBytes` would take `heldBytes` over the budget: while `.keepAll`, the shell
    /// reads no more of the upstream (`isFull(for: readSize)`) until a client attaches or the window ends.
    public func isFull(for nextEventBytes: Int) -> Bool {
        heldBytes + nextEventBytes > budgetBytes
    }

    /// Holds the stamped event `seq` (which must be newer than `newestSeq`) with the bytes the client got, evicting
    /// the oldest events first while `.evictOldest` (see the type's summary).
    public mutating func append(seq: UInt64, bytes: UnsafeRawBufferPointer) {
        precondition(seq > newestSeq, "ReplayRing: seq \(seq) is not after \(newestSeq)")
        if seq != newestSeq &+ 1 { removeAll(through: seq - 1) }
        if retention == .evictOldest {
            guard bytes.count <= budgetBytes else {
                removeAll(through: seq)
                return
            }
            while heldEventCount > 0 && heldBytes + bytes.count > budgetBytes { evictOldest() }
        }
        storage.append(contentsOf: bytes)
        ends.append(storageOrigin + storage.count)
        newestSeq = seq
    }

    /// The event `seq` exists but is not held (it passed through the stamper whole): no position before it can be
    /// replayed any more.
    public mutating func skip(seq: UInt64) {
        precondition(seq > newestSeq, "ReplayRing: seq \(seq) is not after \(newestSeq)")
        removeAll(through: seq)
    }

    /// The events after position `seq` (the `<seq>` of a reconnect's `Last-Event-ID`; 0: all of them).
    public func events(after seq: UInt64) -> ReplayLookup {
        guard seq <= newestSeq else { return .future }
        guard seq >= oldestPosition else { return .tooOld }
        let first = endsStart + Int(seq - oldestPosition)
        let start = first == endsStart ? storageOrigin + storageStart : ends[first - 1]
        return .replay(bytes: storage[(start - storageOrigin)...], eventCount: ends.count - first)
    }

    /// Evicts the oldest events until at most `bytes` are held (a memory cap over all streams was reached); the
    /// positions before the first kept event can no longer be replayed.
    public mutating func evict(downTo bytes: Int) {
        while heldEventCount > 0 && heldBytes > bytes { evictOldest() }
    }

    /// Evicts the oldest held event, and compacts when evicted bytes are at least half of the storage.
    private mutating func evictOldest() {
        storageStart = ends[endsStart] - storageOrigin
        endsStart += 1
        oldestPosition += 1
        if storageStart * 2 >= storage.count {
            storage.removeFirst(storageStart)
            storageOrigin += storageStart
            storageStart = 0
        }
        if endsStart * 2 >= ends.count {
            ends.removeFirst(endsStart)
            endsStart = 0
        }
    }

    /// Drops every held event; `seq` becomes both the newest and the oldest position.
    private mutating func removeAll(through seq: UInt64) {
        storageOrigin += storage.count
        storage.removeAll(keepingCapacity: true)
        storageStart = 0
        ends.removeAll(keepingCapacity: true)
        endsStart = 0
        newestSeq = seq
        oldestPosition = seq
    }
}
