import Testing

@testable import SSEKeeperCore

/// The replay ring's rules, one by one, then against a model on random appends and lookups.
@Suite struct ReplayRingTests {
    /// An event's bytes: `size` copies of a byte derived from its seq, so replays show which events they hold.
    static func event(_ seq: UInt64, size: Int) -> [UInt8] {
        Array(repeating: UInt8(truncatingIfNeeded: seq &* 31 &+ 7), count: size)
    }

    static func append(_ ring: inout ReplayRing, _ seq: UInt64, size: Int) {
        event(seq, size: size).withUnsafeBytes { ring.append(seq: seq, bytes: $0) }
    }

    static func replayed(_ lookup: ReplayLookup) -> ([UInt8], Int)? {
        guard case .replay(let bytes, let count) = lookup else { return nil }
        return (Array(bytes), count)
    }

    @Test func lookup_replaysExactlyTheEventsAfterThePosition() {
        var ring = ReplayRing(budgetBytes: 100)
        for seq: UInt64 in 1...4 { Self.append(&ring, seq, size: Int(seq)) }
        #expect(Self.replayed(ring.events(after: 0))! == (Self.event(1, size: 1) + Self.event(2, size: 2)
            + Self.event(3, size: 3) + Self.event(4, size: 4), 4))
        #expect(Self.replayed(ring.events(after: 2))! == (Self.event(3, size: 3) + Self.event(4, size: 4), 2))
        #expect(Self.replayed(ring.events(after: 4))! == ([], 0))
        #expect(ring.events(after: 5) == .future)
        #expect(ring.heldBytes == 10)
        #expect(ring.heldEventCount == 4)
    }

    @Test func emptyRing_replaysNothingFromZero_andNothingElseIsKnown() {
        let ring = ReplayRing()
        #expect(ring.events(after: 0) == .replay(bytes: [], eventCount: 0))
        #expect(ring.events(after: 1) == .future)
        #expect(ring.budgetBytes == ReplayRing.defaultBudgetBytes)
    }

    @Test func whileAttached_theOldestAreEvicted_andTheirPositionsAreTooOld() {
        var ring = ReplayRing(budgetBytes: 10)
        for seq: UInt64 in 1...5 { Self.append(&ring, seq, size: 3) }
        // Five events of 3 bytes, a budget of 10: the newest three are held (9 bytes).
        #expect(ring.heldBytes == 9)
        #expect(ring.oldestPosition == 2)
        #expect(ring.events(after: 1) == .tooOld)
        #expect(Self.replayed(ring.events(after: 2))?.1 == 3)
        #expect(ring.isFull(for: 2))
        #expect(!ring.isFull(for: 1))
    }

    @Test func whileAttached_anEventOverTheBudget_emptiesTheRing_andIsNotHeld() {
        var ring = ReplayRing(budgetBytes: 10)
        Self.append(&ring, 1, size: 4)
        Self.append(&ring, 2, size: 11)
        #expect(ring.heldBytes == 0)
        #expect(ring.events(after: 1) == .tooOld)
        #expect(ring.events(after: 2) == .replay(bytes: [], eventCount: 0))
        Self.append(&ring, 3, size: 4)
        #expect(Self.replayed(ring.events(after: 2))! == (Self.event(3, size: 4), 1))
    }

    @Test func whileDetached_nothingIsEvicted_andIsFullSaysStopReading() {
        var ring = ReplayRing(budgetBytes: 10, retention: .keepAll)
        for seq: UInt64 in 1...5 { Self.append(&ring, seq, size: 3) }
        #expect(ring.heldBytes == 15)
        #expect(ring.isFull(for: 0))
        #expect(Self.replayed(ring.events(after: 0))?.1 == 5)
        // Attached again: the next append evicts down to the budget.
        ring.retention = .evictOldest
        Self.append(&ring, 6, size: 3)
        #expect(ring.heldBytes == 9)
        #expect(ring.oldestPosition == 3)
    }

    @Test func skippedEvent_makesEveryEarlierPositionTooOld_evenWhileDetached() {
        var ring = ReplayRing(budgetBytes: 100, retention: .keepAll)
        Self.append(&ring, 1, size: 3)
        ring.skip(seq: 2)
        #expect(ring.events(after: 0) == .tooOld)
        #expect(ring.events(after: 1) == .tooOld)
        #expect(ring.events(after: 2) == .replay(bytes: [], eventCount: 0))
        Self.append(&ring, 3, size: 2)
        #expect(Self.replayed(ring.events(after: 2))! == (Self.event(3, size: 2), 1))
    }

    @Test func gapInSeq_makesEveryPositionBeforeItTooOld() {
        var ring = ReplayRing(budgetBytes: 100)
        Self.append(&ring, 1, size: 3)
        Self.append(&ring, 4, size: 3)
        #expect(ring.events(after: 2) == .tooOld)
        #expect(Self.replayed(ring.events(after: 3))! == (Self.event(4, size: 3), 1))
    }

    @Test func heldSlice_staysValid_afterTheRingMovesOn() {
        var ring = ReplayRing(budgetBytes: 6)
        Self.append(&ring, 1, size: 3)
        Self.append(&ring, 2, size: 3)
        guard case .replay(let bytes, _) = ring.events(after: 0) else {
            Issue.record("no replay")
            return
        }
        for seq: UInt64 in 3...10 { Self.append(&ring, seq, size: 3) }
        #expect(Array(bytes) == Self.event(1, size: 3) + Self.event(2, size: 3))
    }

    /// The model: every event appended so far; while attached the ring holds the longest suffix within the budget
    /// (none when the newest is over it), while detached everything since the last eviction.
    @Test func randomAppendsAndLookups_matchTheModel() throws {
        let cases = PropertyCases(baseSeed: 0x2E91_A7, defaultCount: 400)
        var tooOld = 0
        var replays = 0
        try cases.run { seed in
            var rng = SplitMix64(seed: seed)
            let budget = rng.int(1...64)
            var ring = ReplayRing(budgetBytes: budget)
            var all: [(seq: UInt64, bytes: [UInt8])] = []
            var floor: UInt64 = 0  // the model's oldest position
            var seq: UInt64 = 0
            for _ in 0..<rng.int(0...80) {
                if rng.chance(0.1) { ring.retention = ring.retention == .keepAll ? .evictOldest : .keepAll }
                seq += rng.chance(0.03) ? UInt64(rng.int(2...3)) : 1
                if seq != (all.last?.seq ?? floor) + 1 { floor = seq - 1 }
                if rng.chance(0.03) {
                    ring.skip(seq: seq)
                    floor = seq
                    all.append((seq, []))
                    continue
                }
                let bytes = Self.event(seq, size: rng.int(0...24))
                bytes.withUnsafeBytes { ring.append(seq: seq, bytes: $0) }
                all.append((seq, bytes))
                if ring.retention == .evictOldest {
                    var held = all.filter { $0.seq > floor }
                    while !held.isEmpty && held.map(\.bytes.count).reduce(0, +) > budget { held.removeFirst() }
                    floor = held.first.map { $0.seq - 1 } ?? seq
                }
                let position = UInt64(rng.int(0...Int(seq) + 1))
                let expected: ReplayLookup
                if position > seq {
                    expected = .future
                } else if position < floor {
                    expected = .tooOld
                    tooOld += 1
                } else {
                    let after = all.filter { $0.seq > position }
                    expected = .replay(bytes: ArraySlice(after.flatMap(\.bytes)), eventCount: after.count)
                    replays += 1
                }
                guard ring.events(after: position) == expected, ring.oldestPosition == floor else {
                    throw PropertyCases.Failure(seed: seed, message: "after seq \(seq), position \(position): "
                        + "\(ring.events(after: position)) (oldest \(ring.oldestPosition)), expected \(expected) (oldest \(floor))")
                }
            }
        }
        #expect(tooOld > 0)
        #expect(replays > 0)
    }
}
