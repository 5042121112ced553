import Foundation
import Testing

@testable import SSEKeeperCore

/// The assembler's contract on random streams (WHATWG HTML §9.2.6), checked with the test suite's spec client:
/// - unbroken: the bytes forwarded are exactly the upstream's, and after every read the client has dispatched
///   exactly the events the upstream completed so far, holds no partial event, and the assembler's
///   `lastEventID` is the client's last event ID string;
/// - broken at a random byte and resumed with another random stream: the client sees the first stream's complete
///   events and then the second stream's events, never a partial event of the first.
///
/// Deterministic: case `i` uses seed `baseSeed + i`. Replay one with
/// `SSE_PROPERTY_SEED=<seed> SSE_PROPERTY_CASES=1 swift test --filter SSEEventAssemblerPropertyTests`.
@Suite struct SSEEventAssemblerPropertyTests {
    static let baseSeed: UInt64 = 0xA55E_3B1E
    static let defaultCaseCount = 5_000

    typealias Failure = PropertyCases.Failure

    struct Coverage {
        var cases = 0
        var resumed = 0
        var passThrough = 0
        var eventsBeforeBreak = 0
        var eventsAfterBreak = 0
        var realignedAfterCarriageReturn = 0
        var partialEventsDropped = 0
    }

    static var caseRange: (base: UInt64, count: Int) {
        let cases = PropertyCases(baseSeed: baseSeed, defaultCount: defaultCaseCount)
        return (cases.base, cases.count)
    }

    @Test func unbrokenStream_forwardsEveryByte_andOnlyCompleteEvents_forRandomStreamsAndSplits() throws {
        let (base, count) = Self.caseRange
        var coverage = Coverage()
        for index in 0..<count {
            do {
                try Self.runUnbroken(seed: base &+ UInt64(index), coverage: &coverage)
            } catch let failure as Failure {
                Issue.record("\(failure)")
                return
            }
        }
        print("SSE assembler (unbroken): \(coverage.cases) cases, \(coverage.eventsBeforeBreak) events, "
            + "\(coverage.passThrough) passed an oversized event through")
        #expect(coverage.cases == count)
        if count >= 1_000 { #expect(coverage.passThrough > 0) }
    }

    @Test func brokenStream_resumedWithAnother_deliversCompleteEventsOfBoth_andNoPartialEvent() throws {
        let (base, count) = Self.caseRange
        var coverage = Coverage()
        for index in 0..<count {
            do {
                try Self.runBroken(seed: base &+ UInt64(index), coverage: &coverage)
            } catch let failure as Failure {
                Issue.record("\(failure)")
                return
            }
        }
        print("SSE assembler (resumed): \(coverage.cases) cases, \(coverage.resumed) resumed, "
            + "\(coverage.eventsBeforeBreak) events before and \(coverage.eventsAfterBreak) after the break, "
            + "\(coverage.partialEventsDropped) partial events dropped, "
            + "\(coverage.realignedAfterCarriageReturn) realigned after a CR")
        #expect(coverage.cases == count)
        if count >= 1_000 {
            #expect(coverage.partialEventsDropped > 0)
            #expect(coverage.realignedAfterCarriageReturn > 0)
            #expect(coverage.eventsAfterBreak > 0)
        }
    }

    /// Feeds `bytes` to `assembler` in the given chunk lengths; `afterRead` runs after each read.
    static func feed(_ bytes: [UInt8], lengths: [Int], into assembler: inout SSEEventAssembler,
                     forward: (ArraySlice<UInt8>) -> Void, afterRead: (Int, SSEEventAssembler) throws -> Void = { _, _ in }) rethrows {
        var offset = 0
        for length in lengths {
            let chunk = Array(bytes[offset..<offset + length])
            offset += length
            chunk.withUnsafeBytes { raw in
                assembler.feed(raw) { forward(ArraySlice($0)) }
            }
            try afterRead(offset, assembler)
        }
    }

    static func runUnbroken(seed: UInt64, coverage: inout Coverage) throws {
        var rng = SplitMix64(seed: seed)
        let upstream = SSEStreamGenerator.stream(using: &rng)
        let lengths = SSEStreamGenerator.chunkLengths(count: upstream.count, bytes: upstream, using: &rng)
        let limit = rng.chance(0.3) ? rng.int(4...40) : 64 * 1024
        let carried = rng.chance(0.3) ? "carried-7" : ""
        var assembler = SSEEventAssembler(maxHeldBytes: limit)
        var forwarded: [UInt8] = []
        var proxied = SpecEventStreamParser(lastEventIdString: carried)
        var sawPassThrough = false
        var original = SpecEventStreamParser(lastEventIdString: carried)
        var originalFed = 0
        try feed(upstream, lengths: lengths, into: &assembler, forward: { slice in
            forwarded += slice
            proxied.feed(slice)
        }) { offset, assembler in
            original.feed(upstream[originalFed..<offset])
            originalFed = offset
            if assembler.isPassingThrough {
                sawPassThrough = true
                return
            }
            guard proxied.events == original.events else {
                throw Failure(seed: seed, message: "after \(offset) bytes: events differ\n  upstream: \(original.events)\n  client:   \(proxied.events)")
            }
            guard proxied.dataBuffer.isEmpty, proxied.eventTypeBuffer.isEmpty else {
                throw Failure(seed: seed, message: "after \(offset) bytes: the client holds part of an event: \(proxied.observation)")
            }
            if case .value(let id) = assembler.lastEventID {
                guard String(decoding: id, as: UTF8.self).utf8.elementsEqual(original.lastEventIdString.utf8) else {
                    throw Failure(seed: seed, message: "after \(offset) bytes: lastEventID \(id) but the client's is \(original.lastEventIdString.debugDescription)")
                }
            }
        }
        forwarded += assembler.finish()
        guard forwarded == upstream else {
            throw Failure(seed: seed, message: "forwarded bytes differ from the upstream's (limit \(limit))")
        }
        if sawPassThrough || assembler.overflowCount > 0 { coverage.passThrough += 1 }
        coverage.eventsBeforeBreak += original.events.count
        coverage.cases += 1
    }

    @Test func assemblerThenTracker_takesAHeartbeatAfterEveryRead_andTheClientStillSeesTheUpstreamsEvents() throws {
        let (base, count) = Self.caseRange
        var injected = 0
        for index in 0..<count {
            let seed = base &+ UInt64(index)
            var rng = SplitMix64(seed: seed)
            let upstream = SSEStreamGenerator.stream(using: &rng)
            let lengths = SSEStreamGenerator.chunkLengths(count: upstream.count, bytes: upstream, using: &rng)
            var assembler = SSEEventAssembler(maxHeldBytes: rng.chance(0.3) ? rng.int(4...40) : 64 * 1024)
            var tracker = SSEStreamTracker()
            var client = SpecEventStreamParser()
            var original = SpecEventStreamParser()
            var offset = 0
            for length in lengths {
                let chunk = Array(upstream[offset..<offset + length])
                offset += length
                original.feed(chunk)
                chunk.withUnsafeBytes { raw in
                    assembler.feed(raw) { slice in tracker.forward(slice) { client.feed($0) } }
                }
                let heartbeat = tracker.heartbeat(comment: "hb")
                if !assembler.isPassingThrough {
                    // The client stands between events: a heartbeat is always possible, and changes nothing.
                    guard heartbeat != nil else {
                        Issue.record("seed \(seed): no heartbeat possible at an event boundary")
                        return
                    }
                    #expect(tracker.isAtEventBoundary, "seed \(seed)")
                    guard client.events == original.events else {
                        Issue.record("seed \(seed): events differ after \(offset) bytes: \(client.events) vs \(original.events)")
                        return
                    }
                }
                if let heartbeat {
                    injected += 1
                    client.feed(heartbeat)
                }
            }
            let rest = assembler.finish()
            rest.withUnsafeBytes { raw in tracker.forward(raw) { client.feed($0) } }
            client.feed(tracker.finish())
            original.finish()
            client.finish()
            guard client.events == original.events else {
                Issue.record("seed \(seed): events differ at the end: \(client.events) vs \(original.events)")
                return
            }
        }
        #expect(injected > count)
    }

    static func runBroken(seed: UInt64, coverage: inout Coverage) throws {
        var rng = SplitMix64(seed: seed)
        let first = SSEStreamGenerator.stream(using: &rng)
        let cut = first.isEmpty ? 0 : rng.int(0...first.count)
        let before = Array(first[..<cut])
        let second = SSEStreamGenerator.stream(using: &rng)
        var assembler = SSEEventAssembler(maxHeldBytes: rng.chance(0.2) ? rng.int(4...40) : 64 * 1024)
        var proxied = SpecEventStreamParser()
        try feed(before, lengths: SSEStreamGenerator.chunkLengths(count: before.count, bytes: before, using: &rng),
                 into: &assembler, forward: { proxied.feed($0) })
        var expectedBefore = SpecEventStreamParser()
        expectedBefore.feed(before)
        expectedBefore.finish()
        coverage.cases += 1
        guard assembler.isResumable else { return }
        if assembler.heldByteCount > 0 { coverage.partialEventsDropped += 1 }
        guard proxied.events == expectedBefore.events, proxied.dataBuffer.isEmpty, proxied.eventTypeBuffer.isEmpty else {
            throw Failure(seed: seed, message: "at the break: client \(proxied.observation), complete events \(expectedBefore.events)")
        }
        let realign = assembler.beginResumedStream()
        if !realign.isEmpty { coverage.realignedAfterCarriageReturn += 1 }
        proxied.feed(realign)
        try feed(second, lengths: SSEStreamGenerator.chunkLengths(count: second.count, bytes: second, using: &rng),
                 into: &assembler, forward: { proxied.feed($0) })
        proxied.feed(assembler.finish())
        proxied.finish()
        var expectedAfter = SpecEventStreamParser()
        expectedAfter.feed(second)
        expectedAfter.finish()
        let seen = proxied.events.map { [$0.type, $0.data] }
        let expected = (expectedBefore.events + expectedAfter.events).map { [$0.type, $0.data] }
        guard seen.count == expected.count, zip(seen, expected).allSatisfy({ $0.0.map { Array($0.utf8) } == $0.1.map { Array($0.utf8) } }) else {
            throw Failure(seed: seed, message: "after the resume: client saw \(proxied.events)\n  expected \(expectedBefore.events) then \(expectedAfter.events)"
                + "\n  first (cut at \(cut)): \(String(decoding: first, as: UTF8.self).debugDescription)\n  second: \(String(decoding: second, as: UTF8.self).debugDescription)")
        }
        coverage.resumed += 1
        coverage.eventsBeforeBreak += expectedBefore.events.count
        coverage.eventsAfterBreak += expectedAfter.events.count
    }
}
