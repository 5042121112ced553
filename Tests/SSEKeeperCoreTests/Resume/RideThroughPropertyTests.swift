import Testing

@testable import SSEKeeperCore

/// Client ride-through on random streams (issue 15), checked with the suite's spec client: a random upstream (ids or
/// none, CRLF/CR/LF, BOM, comments, multi-line data, retry) goes through `SSEEventAssembler` and `EventIDStamper`
/// into a `ReplayRing`; the client's connection is cut at random bytes, stays away for a few reads or none, and
/// reconnects with the last event ID string it had, which is given the events after its `<seq>` and then the live
/// stream. Over all its connections the client dispatches the backend's events once each, in order, each with the
/// stamped id of its seq and the backend's last event ID (the spec model's) as the backend part; its last event ID
/// string is, at every cut, the id of the last event it dispatched. A ring too small answers `.tooOld`, and only
/// when the events the client missed are more than its budget.
///
/// Replay a case with `SSE_PROPERTY_SEED=<seed> SSE_PROPERTY_CASES=1 swift test --filter RideThroughPropertyTests`.
@Suite struct RideThroughPropertyTests {
    static let baseSeed: UInt64 = 0x51DE_7A1C
    static let defaultCaseCount = 3_000
    static let token = EventIDStamperTests.token
    static let maxConnections = 12

    typealias Failure = PropertyCases.Failure
    typealias Event = SpecEventStreamParser.Event

    struct Coverage {
        var cases = 0
        var cuts = 0
        var casesWithSeveralCuts = 0
        var replayedEvents = 0
        var partialEventsDropped = 0
        var detachedReads = 0
        var tooOld = 0
    }

    /// The stamped id of event `seq` whose backend last event ID is `backend`, as the client decodes it.
    static func stampedID(_ seq: Int, backend: String) -> String {
        "sk1.\(EventIDStamperTests.tokenText).\(seq)" + (backend.isEmpty ? "" : ".\(backend)")
    }

    /// The `<seq>` of an id this stream issued, or nil.
    static func seq(of id: String) -> UInt64? {
        let prefix = "sk1.\(EventIDStamperTests.tokenText)."
        guard id.hasPrefix(prefix) else { return nil }
        return UInt64(id.dropFirst(prefix.count).prefix { $0 != "." })
    }

    /// One case: the proxy's side (assembler, stamper, ring) and the client's connections.
    struct Simulation {
        let seed: UInt64
        var rng: SplitMix64
        var assembler: SSEEventAssembler
        var stamper: EventIDStamper
        var ring: ReplayRing
        /// The stamped size of every event, by seq - 1.
        var eventSizes: [Int] = []
        /// The connection now, nil while the client is away.
        var connection: SpecEventStreamParser? = SpecEventStreamParser()
        /// Bytes the connection still gets before it is cut (nil: never).
        var remaining: Int?
        var connections = 1
        var awayReads = 0
        /// The client's last event ID string when it went away.
        var carried = ""
        var dispatched: [Event] = []
        var gaveUp = false
        var coverage = Coverage()
        let expectedSize: Int

        /// How many bytes the next connection gets before its cut.
        mutating func drawCut() -> Int? {
            guard connections < RideThroughPropertyTests.maxConnections, rng.chance(0.8) else { return nil }
            return rng.int(0...expectedSize)
        }

        /// The proxy writes `bytes` to the client, which gets them up to its cut.
        mutating func send(_ bytes: [UInt8]) throws {
            guard connection != nil else { return }
            let count = min(remaining ?? .max, bytes.count)
            connection!.feed(bytes[..<count])
            remaining = remaining.map { $0 - count }
            if remaining == 0 { try cut() }
        }

        /// The connection breaks: the client keeps what it dispatched and its last event ID string.
        mutating func cut() throws {
            guard var client = connection else { return }
            if !client.dataBuffer.isEmpty || !client.isAtLineStart { coverage.partialEventsDropped += 1 }
            client.finish()
            dispatched += client.events
            let expectedID = dispatched.last?.lastEventId ?? ""
            guard client.lastEventIdString.utf8.elementsEqual(expectedID.utf8) else {
                throw Failure(seed: seed, message: "cut: the client's last event ID is \(client.lastEventIdString.debugDescription), "
                    + "its last event's \(expectedID.debugDescription)")
            }
            carried = client.lastEventIdString
            connection = nil
            coverage.cuts += 1
            ring.retention = .keepAll
            awayReads = rng.chance(0.5) ? 0 : rng.int(1...3)
            if awayReads == 0 { try reconnect() }
        }

        /// The client comes back with `carried` as `Last-Event-ID`: the ring's replay, then the live stream.
        mutating func reconnect() throws {
            guard !gaveUp else { return }
            let position: UInt64
            if carried.isEmpty {
                position = 0
            } else if let seq = RideThroughPropertyTests.seq(of: carried) {
                position = seq
            } else {
                throw Failure(seed: seed, message: "the client's id \(carried.debugDescription) is not this stream's")
            }
            switch ring.events(after: position) {
            case .replay(let bytes, let count):
                coverage.replayedEvents += count
                ring.retention = .evictOldest
                connection = SpecEventStreamParser(lastEventIdString: carried)
                connections += 1
                remaining = drawCut()
                try send(Array(bytes))
            case .tooOld:
                let missed = eventSizes[Int(position)...].reduce(0, +)
                guard missed > ring.budgetBytes else {
                    throw Failure(seed: seed, message: "tooOld after \(position) though the \(missed) bytes since fit \(ring.budgetBytes)")
                }
                coverage.tooOld += 1
                gaveUp = true
            case .future:
                throw Failure(seed: seed, message: "position \(position) is in the future (newest \(ring.newestSeq))")
            }
        }

        /// One read of the upstream: assembled, stamped, held for replay, and sent to the client if attached.
        mutating func read(_ chunk: [UInt8]) throws {
            var out: [UInt8] = []
            var assembler = self.assembler  // out of `self` while the closure stamps into `self`
            chunk.withUnsafeBytes { raw in
                assembler.feed(raw) { slice in stampHolding(slice, into: &out) }
            }
            self.assembler = assembler
            try deliver(out)
        }

        mutating func stampHolding(_ slice: UnsafeRawBufferPointer, into out: inout [UInt8]) {
            stamper.stamp(slice, into: &out) { event in
                switch event {
                case .held(let seq, let bytes):
                    eventSizes.append(bytes.count)
                    ring.append(seq: seq, bytes: bytes)
                case .passedThrough(let seq):
                    eventSizes.append(.max / 2)
                    ring.skip(seq: seq)
                }
            }
        }

        mutating func deliver(_ out: [UInt8]) throws {
            if connection != nil {
                try send(out)
            } else if !gaveUp {
                coverage.detachedReads += 1
                awayReads -= 1
                if awayReads <= 0 { try reconnect() }
            }
        }
    }

    @Test func clientCutAtRandomBytes_reconnectsWithItsLastID_andDispatchesEveryBackendEventOnceInOrder() throws {
        let cases = PropertyCases(baseSeed: Self.baseSeed, defaultCount: Self.defaultCaseCount)
        var total = Coverage()
        try cases.run { seed in
            var rng = SplitMix64(seed: seed)
            let upstream = SSEStreamGenerator.stream(using: &rng)
            let lengths = SSEStreamGenerator.chunkLengths(count: upstream.count, bytes: upstream, using: &rng)
            let assembler = SSEEventAssembler(maxHeldBytes: rng.chance(0.3) ? rng.int(4...40) : 64 * 1024)
            let budget = rng.chance(0.3) ? rng.int(16...160) : ReplayRing.defaultBudgetBytes
            var simulation = Simulation(
                seed: seed, rng: rng, assembler: assembler, stamper: EventIDStamper(token: Self.token),
                ring: ReplayRing(budgetBytes: budget), expectedSize: upstream.count + 60)
            simulation.remaining = simulation.drawCut()
            var offset = 0
            for length in lengths {
                try simulation.read(Array(upstream[offset..<offset + length]))
                offset += length
            }
            // The upstream ends: the partial event still held is dropped; an away client comes back before the end.
            var rest: [UInt8] = []
            let held = simulation.assembler.finish()
            held.withUnsafeBytes { simulation.stampHolding($0, into: &rest) }
            try simulation.send(rest)
            while simulation.connection == nil && !simulation.gaveUp { try simulation.reconnect() }
            if var client = simulation.connection {
                client.finish()
                simulation.dispatched += client.events
                let last = simulation.dispatched.last?.lastEventId ?? ""
                guard client.lastEventIdString.utf8.elementsEqual(last.utf8) else {
                    throw Failure(seed: seed, message: "at the end the client's last event ID is "
                        + "\(client.lastEventIdString.debugDescription), its last event's \(last.debugDescription)")
                }
            }
            let coverage = simulation.coverage
            defer {
                total.cases += 1
                total.cuts += coverage.cuts
                total.casesWithSeveralCuts += coverage.cuts >= 2 ? 1 : 0
                total.replayedEvents += coverage.replayedEvents
                total.partialEventsDropped += coverage.partialEventsDropped
                total.detachedReads += coverage.detachedReads
                total.tooOld += coverage.tooOld
            }
            guard !simulation.gaveUp else { return }
            var backend = SpecEventStreamParser()
            backend.feed(upstream)
            backend.finish()
            let expected = backend.events.enumerated().map { index, event in
                Event(type: event.type, data: event.data,
                      lastEventId: Self.stampedID(index + 1, backend: event.lastEventId))
            }
            guard simulation.dispatched == expected else {
                throw Failure(seed: seed, message: "the client dispatched\n  \(simulation.dispatched)\nexpected\n  \(expected)"
                    + "\nupstream: \(String(decoding: upstream, as: UTF8.self).debugDescription)")
            }
        }
        print("ride-through: \(total.cases) cases, \(total.cuts) cuts, \(total.casesWithSeveralCuts) with several, "
            + "\(total.replayedEvents) events replayed, \(total.partialEventsDropped) partial events dropped at a cut, "
            + "\(total.detachedReads) reads while away, \(total.tooOld) too old")
        if cases.count >= 1_000 {
            #expect(total.casesWithSeveralCuts > 0)
            #expect(total.replayedEvents > 0)
            #expect(total.partialEventsDropped > 0)
            #expect(total.detachedReads > 0)
            #expect(total.tooOld > 0)
        }
    }

    @Test func streamWithoutCuts_evenPassingOversizedEventsThrough_dispatchesEveryEventWithItsStamp() throws {
        let cases = PropertyCases(baseSeed: Self.baseSeed ^ 0xFF, defaultCount: Self.defaultCaseCount)
        var passedThrough = 0
        try cases.run { seed in
            var rng = SplitMix64(seed: seed)
            let upstream = SSEStreamGenerator.stream(using: &rng)
            let lengths = SSEStreamGenerator.chunkLengths(count: upstream.count, bytes: upstream, using: &rng)
            var stamper = EventIDStamper(token: Self.token, maxEventBytes: rng.chance(0.5) ? rng.int(1...40) : 1 << 20)
            var tracker = SSEStreamTracker()
            var client = SpecEventStreamParser()
            // A client that connects later, after a read, carrying the id it had (all it needs replayed is nothing).
            var late: SpecEventStreamParser?
            let lateRead = rng.int(0...max(0, lengths.count - 1))
            var lateEventsBefore = 0
            var backend = SpecEventStreamParser()
            // Retry times the backend set up to its last blank line: all of them reach the client (later ones are
            // in an event that never ended, held unless it passed through).
            var retriesBeforeLastBlankLine = 0
            var offset = 0
            for (index, length) in lengths.enumerated() {
                let chunk = Array(upstream[offset..<offset + length])
                offset += length
                for byte in chunk {
                    let blankLines = backend.blankLines
                    backend.feed([byte])
                    if backend.blankLines > blankLines { retriesBeforeLastBlankLine = backend.reconnectionTimes.count }
                }
                var out: [UInt8] = []
                chunk.withUnsafeBytes { raw in stamper.stamp(raw, into: &out) { _ in } }
                out.withUnsafeBytes { raw in tracker.forward(raw) { client.feed($0) } }
                late?.feed(out)
                guard stamper.isAtEventBoundary else { continue }
                if late == nil, index >= lateRead {
                    late = SpecEventStreamParser(lastEventIdString: String(decoding: stamper.lastStampedID, as: UTF8.self))
                    lateEventsBefore = client.events.count
                }
                // Between output units: heartbeats and ssekeeper's own events may go, and the id is the last stamp.
                let current = String(decoding: stamper.lastStampedID, as: UTF8.self)
                guard tracker.isAtEventBoundary, client.isAtLineStart, client.dataBuffer.isEmpty,
                      client.lastEventIdString.utf8.elementsEqual(current.utf8),
                      late.map({ $0.lastEventIdString.utf8.elementsEqual(current.utf8) }) ?? true,
                      late.map({ $0.events == Array(client.events.dropFirst(lateEventsBefore)) }) ?? true,
                      client.events.count == backend.events.count else {
                    throw Failure(seed: seed, message: "after \(offset) bytes: tracker at boundary \(tracker.isAtEventBoundary), "
                        + "client \(client.observation), late client \(String(describing: late?.observation)), "
                        + "last stamp \(current.debugDescription), backend \(backend.events)")
                }
            }
            backend.finish()
            client.finish()
            passedThrough += stamper.passThroughCount
            let expected = backend.events.enumerated().map { index, event in
                Event(type: event.type, data: event.data, lastEventId: Self.stampedID(index + 1, backend: event.lastEventId))
            }
            let retries = client.reconnectionTimes
            guard client.events == expected, retries.count >= retriesBeforeLastBlankLine,
                  Array(backend.reconnectionTimes.prefix(retries.count)) == retries else {
                throw Failure(seed: seed, message: "client \(client.observation)\nexpected \(expected) retry \(backend.reconnectionTimes)"
                    + "\nupstream: \(String(decoding: upstream, as: UTF8.self).debugDescription)")
            }
        }
        if cases.count >= 1_000 { #expect(passedThrough > 0) }
    }
}
