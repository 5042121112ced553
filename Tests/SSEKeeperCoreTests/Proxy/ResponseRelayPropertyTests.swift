import Foundation
import Testing

@testable import SSEKeeperCore

/// `ResponseRelay`'s contract on random event streams, against the WHATWG client model (HTML §9.2.5/§9.2.6):
/// - relayed: a random stream (`SSEStreamGenerator`: CR/LF/CRLF mixes, BOMs, comments, ids, retry, multi-line
///   data) under a random upstream framing, cut into random reads, with heartbeats polled on a manual clock,
///   `sse_retry` on or off, the assembler on or off, and events and `retry:` of ssekeeper's own attempted at random
///   points: the client dispatches exactly the upstream's events, plus ssekeeper's own, whole, between them;
///   with `heartbeat_event` set, plus whole heartbeat events of that type with the expected data, each sent only
///   where the client stood between events with nothing its blank line could change, and no heartbeat (event or
///   comment) altering the client's last event ID string (no `id:`; a carried `Last-Event-ID` survives);
/// - resumed: a stream broken at a random byte and spliced with another: the client dispatches the first stream's
///   complete events, then the second's, and never half an event.
///
/// Deterministic: case `i` uses seed `baseSeed + i`. Replay one with
/// `SSE_PROPERTY_SEED=<seed> SSE_PROPERTY_CASES=1 swift test --filter ResponseRelayPropertyTests`.
@Suite struct ResponseRelayPropertyTests {
    static let baseSeed: UInt64 = 0x2E1A_7E57
    static let defaultCaseCount = 2_000
    static let interval: UInt64 = 10_000_000
    /// The type and `retry:` values of ssekeeper's own, which the generator never produces.
    static let ownEventType = "ssekeeper-own"
    static let ownRetry = 4242
    static let sseRetry = 7777

    typealias Failure = PropertyCases.Failure

    struct Coverage {
        var cases = 0
        var events = 0
        var heartbeatsSent = 0
        var heartbeatsSkipped = 0
        var ownEventsSent = 0
        var ownEventsRefused = 0
        var heartbeatEventsSent = 0
        var heartbeatEventsHeldForCarriedID = 0
        var retriesSent = 0
        var resumed = 0
        var realigned = 0
        var framings: Set<String> = []
    }

    static var cases: PropertyCases { PropertyCases(baseSeed: baseSeed, defaultCount: defaultCaseCount) }

    @Test func relayedStream_dispatchesTheUpstreamsEvents_withHeartbeatsAndOwnEventsInBetween() throws {
        var coverage = Coverage()
        let count = Self.cases.count
        guard try Self.cases.run({ try Self.runRelayed(seed: $0, coverage: &coverage) }) == count else { return }
        print("ResponseRelay property: \(coverage.cases) cases, \(coverage.events) events, heartbeats "
            + "\(coverage.heartbeatsSent) sent \(coverage.heartbeatsSkipped) skipped, own events "
            + "\(coverage.ownEventsSent) sent \(coverage.ownEventsRefused) refused, \(coverage.retriesSent) retries, "
            + "heartbeat events \(coverage.heartbeatEventsSent) sent \(coverage.heartbeatEventsHeldForCarriedID) held "
            + "for a carried id, "
            + "framings \(coverage.framings.sorted())")
        #expect(coverage.cases == count)
        if count >= 1_000 {
            #expect(coverage.heartbeatsSent > 0 && coverage.heartbeatsSkipped > 0)
            #expect(coverage.ownEventsSent > 0 && coverage.ownEventsRefused > 0 && coverage.retriesSent > 0)
            #expect(coverage.heartbeatEventsSent > 0 && coverage.heartbeatEventsHeldForCarriedID > 0)
            #expect(coverage.framings.count == 6)
        }
    }

    @Test func brokenStream_splicedWithAnother_dispatchesTheCompleteEventsOfBoth() throws {
        var coverage = Coverage()
        let count = Self.cases.count
        guard try Self.cases.run({ try Self.runResumed(seed: $0, coverage: &coverage) }) == count else { return }
        print("ResponseRelay resume property: \(coverage.cases) cases, \(coverage.resumed) resumed, "
            + "\(coverage.realigned) realigned after a CR, \(coverage.events) events")
        #expect(coverage.cases == count)
        if count >= 1_000 { #expect(coverage.resumed > count / 2 && coverage.realigned > 0) }
    }

    /// Random SSE options for one case; `heartbeatEvents`: also a random `heartbeat_event` (or off) and
    /// `heartbeat_data`, for a client that carried `carriedLastEventID`.
    static func options(using rng: inout SplitMix64, assemblesEvents: Bool, heartbeatEvents: Bool = false,
                        carriedLastEventID: String = "") -> ResponseRelay.SSEOptions {
        var options = RelayDriver.sse(
            intervalNanos: interval, comment: rng.pick(["", "hb", "a\rb\nc"]),
            retryMilliseconds: rng.chance(0.3) ? sseRetry : nil, assemblesEvents: assemblesEvents,
            maxHeldBytes: rng.chance(0.2) ? rng.int(4...40) : 64 * 1024)
        if heartbeatEvents, rng.chance(0.6) {
            options.heartbeat = HeartbeatText(comment: options.heartbeat.comment,
                                              event: rng.pick(["ping", "message", "a\rb"]),
                                              data: rng.pick([nil, nil, "", "tick", "x\ny"]))
            options.carriedLastEventID = carriedLastEventID
        }
        return options
    }

    /// The heartbeat events a case expects (`heartbeat_event`), and where they landed among the client's events.
    struct HeartbeatEvents {
        /// The type the client dispatches them with; nil: `heartbeat_event off`.
        var type: String?
        /// `heartbeat_data` as the client reads it; nil: the wall clock.
        var data: String?
        /// Indices of heartbeat events in the client's events.
        var indices: Set<Int> = []

        init(_ options: ResponseRelay.SSEOptions) {
            func oneLine(_ text: String) -> String {
                String(decoding: text.utf8.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }, as: UTF8.self)
            }
            type = options.heartbeat.event.map(oneLine)
            data = options.heartbeat.data.map(oneLine)
        }

        /// The client's events that are neither heartbeat events nor `ownEventType`'s.
        func upstreamEvents(of client: SpecEventStreamParser) -> [SpecEventStreamParser.Event] {
            client.events.enumerated().filter { !indices.contains($0.offset) && $0.element.type != ownEventType }
                .map(\.element)
        }
    }

    /// The reads of `wire`: random cuts, no empty read (a read of 0 bytes is the end of the connection).
    static func reads(of wire: [UInt8], using rng: inout SplitMix64) -> [ArraySlice<UInt8>] {
        ReadSplit.random(seed: rng.next()).reads(of: wire).filter { !$0.isEmpty }
    }

    /// Between two reads: time passes, heartbeats are polled, and events and `retry:` of ssekeeper's own are tried.
    static func interlude(_ driver: inout RelayDriver, ownEvents: inout [String], allowOwn: Bool,
                          heartbeatEvents: inout HeartbeatEvents, using rng: inout SplitMix64,
                          coverage: inout Coverage, fail: (String) -> Failure) throws {
        for _ in 0..<rng.int(0...2) {
            driver.now += rng.pick([0, interval / 2, interval - 1, interval, 3 * interval])
            driver.wallClockMilliseconds += Int64(rng.int(0...5_000))
            let writes = driver.writes.count
            let safe = driver.relay.tracker?.isAtSafePoint ?? false
            let takesEvent = heartbeatEvents.type != nil && driver.relay.tracker?.takesHeartbeatEvent == true
            let heldForCarriedID = heartbeatEvents.type != nil && driver.relay.isAtEventBoundary && !takesEvent
            let before = driver.client.observation
            switch driver.heartbeat(clientBacklogged: rng.chance(0.1)) {
            case .sent:
                guard safe, driver.writes.count == writes + 1 else { throw fail("heartbeat sent mid-line or not written") }
                coverage.heartbeatsSent += 1
                guard driver.client.lastEventIdString.utf8.elementsEqual(before.lastEventIdString.utf8) else {
                    throw fail("a heartbeat changed the last event ID string: \(before) → \(driver.client.observation)")
                }
                if takesEvent, let type = heartbeatEvents.type {
                    try checkHeartbeatEvent(type: type, in: driver, before: before, heartbeatEvents: &heartbeatEvents,
                                            fail: fail)
                    coverage.heartbeatEventsSent += 1
                } else {
                    guard driver.client.events.count == before.events.count else { throw fail("a comment dispatched") }
                    if heldForCarriedID { coverage.heartbeatEventsHeldForCarriedID += 1 }
                }
            case .skipped:
                guard !safe, driver.writes.count == writes else { throw fail("heartbeat skipped at a safe point") }
                if driver.relay.assembler?.isPassingThrough == false {
                    throw fail("heartbeat skipped although the assembler holds every partial event")
                }
                coverage.heartbeatsSkipped += 1
            case .notYet:
                guard driver.writes.count == writes else { throw fail("heartbeat written while not due") }
            }
            guard allowOwn else { continue }
            if rng.chance(0.2) {
                let boundary = driver.relay.isAtEventBoundary
                let data = "own-\(ownEvents.count)"
                guard driver.appendEvent(["event: \(ownEventType)", "data: \(data)"]) == boundary else {
                    throw fail("appendEvent disagrees with isAtEventBoundary \(boundary)")
                }
                if boundary { ownEvents.append(data) }
                if boundary { coverage.ownEventsSent += 1 } else { coverage.ownEventsRefused += 1 }
            }
            if rng.chance(0.1) {
                let boundary = driver.relay.isAtEventBoundary
                guard driver.appendRetry(milliseconds: ownRetry) == boundary else {
                    throw fail("appendRetry disagrees with isAtEventBoundary \(boundary)")
                }
                if boundary { coverage.retriesSent += 1 }
            }
        }
    }

    /// A heartbeat event was sent: it went only where its blank line dispatches nothing but itself and keeps the
    /// ID, and the client dispatched exactly it, with the expected type, data and the unchanged last event ID.
    static func checkHeartbeatEvent(type: String, in driver: RelayDriver, before: SpecEventStreamParser.Observation,
                                    heartbeatEvents: inout HeartbeatEvents, fail: (String) -> Failure) throws {
        guard before.dataBuffer.isEmpty, before.eventTypeBuffer.isEmpty,
              before.lastEventIdBuffer.utf8.elementsEqual(before.lastEventIdString.utf8)
        else { throw fail("a heartbeat event where its blank line changes the client's state: \(before)") }
        let expected = SpecEventStreamParser.Event(
            type: type, data: heartbeatEvents.data ?? String(driver.wallClockMilliseconds),
            lastEventId: before.lastEventIdString)
        guard driver.client.events.count == before.events.count + 1, driver.client.events.last == expected else {
            let seen = driver.client.events.dropFirst(before.events.count)
            throw fail("heartbeat event: expected \(expected), client saw \(seen)")
        }
        heartbeatEvents.indices.insert(before.events.count)
    }

    static func runRelayed(seed: UInt64, coverage: inout Coverage) throws {
        var rng = SplitMix64(seed: seed)
        let upstream = SSEStreamGenerator.stream(using: &rng)
        let encoding = rng.pick(UpstreamBodyEncoding.allCases)
        let (framing, wire) = encoding.encode(upstream, using: &rng)
        let clientFraming: ClientFraming = rng.chance(0.5) ? .chunked : .closeDelimited
        let assembles = rng.chance(0.5)
        let carried = rng.chance(0.3) ? "carried-7" : ""
        let sse = options(using: &rng, assemblesEvents: assembles, heartbeatEvents: true, carriedLastEventID: carried)
        var heartbeatEvents = HeartbeatEvents(sse)
        coverage.framings.insert("\(encoding.rawValue)→\(clientFraming)")
        func fail(_ message: String) -> Failure {
            Failure(seed: seed, message: "\(encoding.rawValue) → \(clientFraming), assembler \(assembles), "
                + "retry \(sse.retryMilliseconds.map(String.init) ?? "off"), heartbeat_event "
                + "\(sse.heartbeat.event.map { $0.debugDescription } ?? "off"), carried \(carried.debugDescription): "
                + "\(message)\n  upstream: "
                + String(decoding: upstream, as: UTF8.self).debugDescription)
        }

        var original = SpecEventStreamParser(lastEventIdString: carried)
        original.feed(upstream)
        original.finish()
        var driver = RelayDriver(upstream: framing, client: clientFraming, sse: sse, lastEventIdString: carried)
        var ownEvents: [String] = []
        let (sentBefore, skippedBefore) = (coverage.heartbeatsSent, coverage.heartbeatsSkipped)
        driver.begin()
        let reads = Self.reads(of: wire, using: &rng)
        for (index, read) in reads.enumerated() {
            try interlude(&driver, ownEvents: &ownEvents, allowOwn: true, heartbeatEvents: &heartbeatEvents,
                          using: &rng, coverage: &coverage, fail: fail)
            let outcome = driver.relay(read)
            let last = index == reads.count - 1
            let expected: ResponseRelay.Outcome = last && encoding != .closeDelimited ? .complete : .more
            guard outcome == expected else { throw fail("read \(index) of \(reads.count): \(outcome)") }
            let upstreamEvents = heartbeatEvents.upstreamEvents(of: driver.client)
            guard original.events.starts(with: upstreamEvents) else {
                throw fail("after read \(index): \(upstreamEvents) is not a prefix of \(original.events)")
            }
            if assembles, driver.relay.assembler?.isPassingThrough == false,
               !driver.client.dataBuffer.isEmpty || !driver.client.eventTypeBuffer.isEmpty {
                throw fail("after read \(index): the client holds part of an event: \(driver.client.observation)")
            }
        }
        if reads.isEmpty {
            guard driver.relay.hasNoBody || encoding == .closeDelimited else { throw fail("no reads, yet a body") }
        }
        if rng.chance(0.5) {
            try interlude(&driver, ownEvents: &ownEvents, allowOwn: true, heartbeatEvents: &heartbeatEvents,
                          using: &rng, coverage: &coverage, fail: fail)
        }
        driver.finish()
        driver.client.finish()

        guard driver.clientFramingProblem == nil, driver.clientSawLastChunk == (clientFraming == .chunked) else {
            throw fail("client framing: \(driver.clientFramingProblem ?? "no last chunk")")
        }
        let upstreamEvents = heartbeatEvents.upstreamEvents(of: driver.client)
        guard upstreamEvents == original.events else {
            throw fail("events differ\n  upstream: \(original.events)\n  client:   \(upstreamEvents)")
        }
        let own = driver.client.events.filter { $0.type == ownEventType }.map(\.data)
        guard own == ownEvents else { throw fail("own events \(own), sent \(ownEvents)") }
        let retries = driver.client.reconnectionTimes.filter { $0 != String(ownRetry) }
        let expectedRetries = (sse.retryMilliseconds.map { [String($0)] } ?? []) + original.reconnectionTimes
        guard retries == expectedRetries else { throw fail("reconnection times \(retries), expected \(expectedRetries)") }
        if ownEvents.isEmpty, driver.client.lastEventIdString.utf8.elementsEqual(original.lastEventIdString.utf8) == false {
            throw fail("last event ID string \(driver.client.lastEventIdString) vs \(original.lastEventIdString)")
        }
        guard driver.relay.heartbeatsSent == coverage.heartbeatsSent - sentBefore,
              driver.relay.heartbeatsSkipped == coverage.heartbeatsSkipped - skippedBefore
        else { throw fail("heartbeats counted \(driver.relay.heartbeatsSent) sent, \(driver.relay.heartbeatsSkipped) skipped") }
        coverage.events += original.events.count
        coverage.cases += 1
    }

    static func runResumed(seed: UInt64, coverage: inout Coverage) throws {
        var rng = SplitMix64(seed: seed)
        let first = SSEStreamGenerator.stream(using: &rng)
        let second = SSEStreamGenerator.stream(using: &rng)
        let firstEncoding = rng.pick(UpstreamBodyEncoding.allCases)
        let secondEncoding = rng.pick(UpstreamBodyEncoding.allCases)
        let (firstFraming, firstWire) = firstEncoding.encode(first, using: &rng)
        let (secondFraming, secondWire) = secondEncoding.encode(second, using: &rng)
        let clientFraming: ClientFraming = rng.chance(0.5) ? .chunked : .closeDelimited
        let sse = options(using: &rng, assemblesEvents: true)
        var noHeartbeatEvents = HeartbeatEvents(sse)
        func fail(_ message: String) -> Failure {
            Failure(seed: seed, message: "\(firstEncoding.rawValue) then \(secondEncoding.rawValue) → \(clientFraming): "
                + "\(message)\n  first: \(String(decoding: first, as: UTF8.self).debugDescription)"
                + "\n  second: \(String(decoding: second, as: UTF8.self).debugDescription)")
        }
        coverage.cases += 1
        // The break: somewhere before the end of the first body (a complete body would end, not break).
        let cut = firstWire.isEmpty ? 0 : rng.int(0...firstWire.count - 1)
        var driver = RelayDriver(upstream: firstFraming, client: clientFraming, sse: sse)
        var unused: [String] = []
        driver.begin()
        for read in Self.reads(of: Array(firstWire[..<cut]), using: &rng) {
            guard driver.relay(read) == .more else { throw fail("the cut first body completed") }
            try interlude(&driver, ownEvents: &unused, allowOwn: false, heartbeatEvents: &noHeartbeatEvents,
                          using: &rng, coverage: &coverage, fail: fail)
        }
        guard driver.relay.isResumable else { return }
        // What the first stream's body held up to the break, as the upstream meant it.
        var delivered = RelayDriver(upstream: firstFraming, client: .closeDelimited, sse: nil)
        delivered.begin()
        delivered.relay(firstWire[..<cut])
        var expectedFirst = SpecEventStreamParser()
        expectedFirst.feed(delivered.body)
        expectedFirst.finish()
        guard driver.client.events == expectedFirst.events, driver.client.dataBuffer.isEmpty,
              driver.client.eventTypeBuffer.isEmpty
        else { throw fail("at the break (\(cut)): client \(driver.client.observation), complete \(expectedFirst.events)") }

        let writes = driver.writes.count
        driver.breakForResume()
        if driver.writes.count > writes { coverage.realigned += 1 }
        try interlude(&driver, ownEvents: &unused, allowOwn: false, heartbeatEvents: &noHeartbeatEvents,
                      using: &rng, coverage: &coverage, fail: fail)
        driver.relay.spliceResumed(upstreamFraming: secondFraming)
        let reads = Self.reads(of: secondWire, using: &rng)
        for (index, read) in reads.enumerated() {
            let outcome = driver.relay(read)
            let expected: ResponseRelay.Outcome = index == reads.count - 1 && secondEncoding != .closeDelimited ? .complete : .more
            guard outcome == expected else { throw fail("second body, read \(index): \(outcome)") }
            try interlude(&driver, ownEvents: &unused, allowOwn: false, heartbeatEvents: &noHeartbeatEvents,
                          using: &rng, coverage: &coverage, fail: fail)
        }
        driver.finish()
        driver.client.finish()
        var expectedSecond = SpecEventStreamParser()
        expectedSecond.feed(second)
        expectedSecond.finish()
        let seen = driver.client.events.map { [Array($0.type.utf8), Array($0.data.utf8)] }
        let expected = (expectedFirst.events + expectedSecond.events).map { [Array($0.type.utf8), Array($0.data.utf8)] }
        guard driver.clientFramingProblem == nil, seen == expected else {
            throw fail("after the splice: client saw \(driver.client.events)\n  expected \(expectedFirst.events) then \(expectedSecond.events)")
        }
        coverage.resumed += 1
        coverage.events += expected.count
    }
}
