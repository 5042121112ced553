import Testing

@testable import SSEKeeperCore

/// Client ride-through (issue 15) at the relay, where the shell's logic lives: a random upstream stream
/// (`SSEStreamGenerator`: ids or none, CRLF/CR/LF, BOM, multi-line data, comments, retry), chunked or
/// close-delimited, goes through one `ResponseRelay` with `rideThrough` set, with and without the assembler and
/// `heartbeat_event`, with heartbeats polled between reads. The client's connection breaks at random bytes of what
/// it received (the rest is lost, as with a broken TCP connection); the relay is told a few writes later
/// (`setClientAttached(false)`), reads on while nobody is attached (their output dropped, as the shell drops it),
/// and the client comes back with the last event ID string its WHATWG parser holds: `reattach(...)` after that id's
/// `<seq>`, with a new head and a random client framing, to a fresh parser that carries the id over.
/// See `RideThroughRelaySimulation` for the shell's rules the driver follows.
///
/// The property, over all the client's connections:
/// - it dispatches exactly the events a direct WHATWG client of the backend does (type and data), once each, in
///   order, each with the stamped id `sk1.<token>.<seq>[.<backend-id>]` whose backend part is the spec model's last
///   event ID; whenever a connection closes its last event ID string is the last dispatched event's id;
/// - a heartbeat (comment or event) never adds, drops or changes an event, nor the last event ID string;
/// - `reattach` returns nil only when the events the client missed are more than `client_resume_buffer` (small
///   buffers in some cases), and the case ends there (the shell serves it as a new request).
/// A client that comes back without an id of this stream (it broke before its first event) would be a new request
/// to the backend, which the relay never sees: such a case ends there, checked up to that point; it does not
/// reattach at position 0, since the shell only attaches a `Last-Event-ID` naming the stream.
///
/// Deterministic: case `i` uses seed `baseSeed + i`. Replay one with
/// `SSE_PROPERTY_SEED=<seed> SSE_PROPERTY_CASES=1 swift test --filter ResponseRelayRideThroughPropertyTests`.
@Suite struct ResponseRelayRideThroughPropertyTests {
    static let baseSeed: UInt64 = 0x0CE7_4ED0
    static let defaultCaseCount = 4_000
    /// The id of another stream (a valid token: its last character carries zero bits), carried in by the first
    /// request sometimes (a reconnect that did not attach).
    static let otherStreamID = "sk1.Zz_-0123456789abcdefgA.5.41"
    static let maxConnections = 10

    typealias Failure = PropertyCases.Failure
    typealias Event = SpecEventStreamParser.Event

    /// What all cases exercised.
    struct Totals {
        var cases = 0
        var completed = 0
        var casesWithSeveralCuts = 0
        var casesWithHeartbeatsWhileAttached = 0
        var tooOld = 0
        var newRequests = 0
        var sum = RideThroughRelaySimulation.Coverage()

        mutating func add(_ simulation: RideThroughRelaySimulation) {
            let coverage = simulation.coverage
            cases += 1
            if simulation.earlyEnd == nil { completed += 1 }
            if coverage.cuts >= 2 { casesWithSeveralCuts += 1 }
            if coverage.heartbeatsDeliveredWhileAttached > 0 { casesWithHeartbeatsWhileAttached += 1 }
            if simulation.earlyEnd == .tooOld { tooOld += 1 }
            if simulation.earlyEnd == .newRequest { newRequests += 1 }
            sum.cuts += coverage.cuts
            sum.heartbeatEventsDispatched += coverage.heartbeatEventsDispatched
            sum.replayedEvents += coverage.replayedEvents
            sum.reattached += coverage.reattached
            sum.reattachedChunked += coverage.reattachedChunked
            sum.takeovers += coverage.takeovers
            sum.detachedReads += coverage.detachedReads
            sum.backPressureStops += coverage.backPressureStops
            sum.endedWhileAway += coverage.endedWhileAway
            sum.tooOldWhilePassingThrough += coverage.tooOldWhilePassingThrough
        }
    }

    @Test func clientCutAtRandomBytes_reattachesWithItsLastID_andDispatchesEveryBackendEventOnceInOrder() throws {
        let cases = PropertyCases(baseSeed: Self.baseSeed, defaultCount: Self.defaultCaseCount)
        var totals = Totals()
        let passed = try cases.run { seed in
            totals.add(try Self.run(seed: seed))
        }
        print("relay ride-through: \(totals.cases) cases, \(totals.completed) to the end, \(totals.sum.cuts) cuts, "
            + "\(totals.casesWithSeveralCuts) cases with several, \(totals.casesWithHeartbeatsWhileAttached) with "
            + "heartbeats while attached (\(totals.sum.heartbeatEventsDispatched) heartbeat events), "
            + "\(totals.sum.reattached) reattached (\(totals.sum.reattachedChunked) chunked, \(totals.sum.takeovers) "
            + "take-overs), \(totals.sum.replayedEvents) events replayed, \(totals.sum.detachedReads) reads while "
            + "detached, \(totals.sum.backPressureStops) back-pressure stops, \(totals.sum.endedWhileAway) ended while "
            + "away, \(totals.tooOld) too old (\(totals.sum.tooOldWhilePassingThrough) mid pass-through), "
            + "\(totals.newRequests) new requests")
        #expect(passed == cases.count)
        if cases.count >= 1_000 {
            #expect(totals.casesWithSeveralCuts > 0)
            #expect(totals.casesWithHeartbeatsWhileAttached > 0)
            #expect(totals.sum.heartbeatEventsDispatched > 0)
            #expect(totals.sum.replayedEvents > 0)
            #expect(totals.sum.takeovers > 0 && totals.sum.reattachedChunked > 0)
            #expect(totals.sum.detachedReads > 0 && totals.sum.backPressureStops > 0 && totals.sum.endedWhileAway > 0)
            #expect(totals.tooOld > 0)
            #expect(totals.completed > cases.count / 2)
        }
    }

    /// One case, from its seed; throws the first `Failure`.
    static func run(seed: UInt64) throws -> RideThroughRelaySimulation {
        var rng = SplitMix64(seed: seed)
        let token = StreamToken(random: &rng)
        let upstream = SSEStreamGenerator.stream(using: &rng)
        let encoding: UpstreamBodyEncoding = rng.chance(0.5) ? .chunked : .closeDelimited
        let (framing, wire) = encoding.encode(upstream, using: &rng)
        let assembles = rng.chance(0.5)
        let budget = rng.chance(0.3) ? rng.int(60...300) : ReplayRing.defaultBudgetBytes
        let carriedIn: String? = rng.pick([nil, nil, nil, "41", otherStreamID])
        var sse = ResponseRelayPropertyTests.options(using: &rng, assemblesEvents: assembles, heartbeatEvents: true)
        sse.carriedLastEventID = carriedIn
        sse.rideThrough = ResponseRelay.RideThroughOptions(token: token.textBytes, bufferBytes: budget)
        let heartbeat = ResponseRelayPropertyTests.HeartbeatEvents(sse)
        let clientFraming: ClientFraming = rng.chance(0.5) ? .chunked : .closeDelimited
        let description = "\(encoding.rawValue) → \(clientFraming), assembler \(assembles ? "on (max \(sse.maxHeldBytes))" : "off"), "
            + "heartbeat_event \(sse.heartbeat.event.map { $0.debugDescription } ?? "off"), "
            + "client_resume_buffer \(budget), token \(token.text), carried \(carriedIn.map { $0.debugDescription } ?? "none")\n  upstream: "
            + String(decoding: upstream, as: UTF8.self).debugDescription

        let relay = ResponseRelay(upstreamFraming: framing, clientFraming: clientFraming, sse: sse, now: 1_000)
        var simulation = RideThroughRelaySimulation(
            seed: seed, rng: rng, relay: relay, token: token.textBytes, budget: budget,
            eventSizes: stampedSizes(of: upstream, token: token, budget: budget), heartbeatType: heartbeat.type,
            heartbeatData: heartbeat.data, upstreamLeft: wire.count, maxConnections: maxConnections,
            description: description, carried: carriedIn ?? "", initialCarried: carriedIn ?? "")
        try simulation.begin(clientFraming: clientFraming)
        let reads = ResponseRelayPropertyTests.reads(of: wire, using: &simulation.rng)
        for (index, read) in reads.enumerated() {
            try simulation.interlude(interval: ResponseRelayPropertyTests.interval)
            guard let outcome = try simulation.read(read) else { break }
            let expected: ResponseRelay.Outcome = index == reads.count - 1 && encoding == .chunked ? .complete : .more
            guard outcome == expected else { throw simulation.fail("read \(index) of \(reads.count): \(outcome)") }
        }
        try simulation.interlude(interval: ResponseRelayPropertyTests.interval)
        try simulation.finishUpstream()

        var backend = SpecEventStreamParser()
        backend.feed(upstream)
        backend.finish()
        let expected = backend.events.enumerated().map { index, event in
            Event(type: event.type, data: event.data,
                  lastEventId: "sk1.\(token.text).\(index + 1)" + (event.lastEventId.isEmpty ? "" : ".\(event.lastEventId)"))
        }
        let complete = simulation.earlyEnd == nil
        guard complete ? simulation.dispatched == expected : expected.starts(with: simulation.dispatched) else {
            throw simulation.fail("after \(simulation.connections) connections (\(simulation.earlyEnd.map { "\($0)" } ?? "to the end")) "
                + "the client dispatched\n  \(simulation.dispatched)\nexpected\n  \(expected)")
        }
        return simulation
    }

    /// The size of each event as `StreamReplay` stamps and holds it with `budget`, by seq - 1 (`Int.max / 4` for an
    /// event over the budget, which passes through unheld). Stamping is per line, so the split does not matter.
    static func stampedSizes(of upstream: [UInt8], token: StreamToken, budget: Int) -> [Int] {
        var stamper = EventIDStamper(token: token.textBytes, maxEventBytes: budget)
        var sizes: [Int] = []
        var out: [UInt8] = []
        upstream.withUnsafeBytes { raw in
            stamper.stamp(raw, into: &out) { event in
                switch event {
                case .held(_, let bytes): sizes.append(bytes.count)
                case .passedThrough: sizes.append(Int.max / 4)
                }
            }
        }
        return sizes
    }
}
