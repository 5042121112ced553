import Foundation
import Testing

@testable import SSEKeeperCore

/// The tracker's invariant, checked on random streams (WHATWG HTML §9.2.6): a spec-compliant client
/// observes the same events, last event ID string, reconnection times and pending buffers with and
/// without the proxy's injections, after every upstream read, whatever the split, line ends or BOM;
/// and it processes the same number of blank lines (lax clients dispatch an event on each). In half the cases
/// heartbeat events (`heartbeatEvent(type:data:)`) are tried too: each goes only where the client stands between
/// events with nothing its blank line could change, is dispatched whole with the client's last event ID string
/// unchanged, and, taken out (with its blank line), leaves the client's observation as without the proxy.
///
/// Deterministic: case `i` uses seed `baseSeed + i`. Replay one case with
/// `SSE_PROPERTY_SEED=<seed> SSE_PROPERTY_CASES=1 swift test --filter SSEStreamTrackerPropertyTests`.
@Suite struct SSEStreamTrackerPropertyTests {
    static let baseSeed: UInt64 = 0x55E_CEE9E4
    static let defaultCaseCount = 20_000

    /// What a failing case reports.
    struct Failure: Error, CustomStringConvertible {
        var seed: UInt64
        var message: String
        var upstream: [UInt8]
        var chunks: [Int]

        var description: String {
            let text = String(decoding: upstream, as: UTF8.self).debugDescription
            return "seed \(seed): \(message)\n  upstream \(upstream.count) bytes: \(text)\n  chunk lengths: \(chunks)"
        }
    }

    /// Statistics over all cases, to show the property exercised what it claims to.
    struct Coverage {
        var cases = 0
        var heartbeatsInjected = 0
        var heartbeatsRefused = 0
        var injectionsAfterCarriageReturn = 0
        var injectionsAfterBlankLine = 0
        var droppedByteOrderMarks = 0
        var eventsDispatched = 0
        var heartbeatEventsInjected = 0
        var heartbeatEventsRefusedForCarriedID = 0
    }

    @Test func proxiedStream_dispatchesIdenticalEvents_forRandomStreamsSplitsAndHeartbeats() throws {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["SSE_PROPERTY_SEED"].flatMap { UInt64($0) } ?? Self.baseSeed
        let count = environment["SSE_PROPERTY_CASES"].flatMap { Int($0) } ?? Self.defaultCaseCount
        var coverage = Coverage()
        for index in 0..<count {
            let seed = base &+ UInt64(index)
            do {
                try Self.runCase(seed: seed, coverage: &coverage)
            } catch let failure as Failure {
                Issue.record("\(failure)")
                return
            }
        }
        print(
            "SSE property: \(coverage.cases) cases from seed \(base), \(coverage.eventsDispatched) events, "
                + "\(coverage.heartbeatsInjected) injections (\(coverage.injectionsAfterCarriageReturn) after CR, "
                + "\(coverage.injectionsAfterBlankLine) after a blank line), \(coverage.heartbeatsRefused) refused mid-line, "
                + "\(coverage.droppedByteOrderMarks) BOMs dropped, \(coverage.heartbeatEventsInjected) heartbeat events "
                + "(\(coverage.heartbeatEventsRefusedForCarriedID) refused for a carried id)")
        #expect(coverage.cases == count)
        if count >= 1_000 {
            #expect(coverage.injectionsAfterCarriageReturn > 0)
            #expect(coverage.injectionsAfterBlankLine > 0)
            #expect(coverage.heartbeatsRefused > 0)
            #expect(coverage.droppedByteOrderMarks > 0)
            #expect(coverage.heartbeatEventsInjected > 0 && coverage.heartbeatEventsRefusedForCarriedID > 0)
        }
    }

    /// One random case: generate, split, proxy with random injections, compare after every step.
    static func runCase(seed: UInt64, coverage: inout Coverage) throws {
        var rng = SplitMix64(seed: seed)
        let upstream = SSEStreamGenerator.stream(using: &rng)
        let lengths = SSEStreamGenerator.chunkLengths(count: upstream.count, bytes: upstream, using: &rng)
        let carriedLastEventId = rng.chance(0.3) ? "carried-7" : ""
        func fail(_ message: String) -> Failure {
            Failure(seed: seed, message: message, upstream: upstream, chunks: lengths)
        }

        var original = SpecEventStreamParser(lastEventIdString: carriedLastEventId)
        var proxied = SpecEventStreamParser(lastEventIdString: carriedLastEventId)
        var tracker = SSEStreamTracker(carriedLastEventID: carriedLastEventId)
        let triesHeartbeatEvents = rng.chance(0.5)
        var heartbeatEventIndices: [Int] = []
        var forwarded: [UInt8] = []
        var preambleRetry: [String] = []

        func check(_ step: String, streamEnded: Bool = false) throws {
            var expected = original.observation
            expected.reconnectionTimes = preambleRetry + expected.reconnectionTimes
            var actual = proxied.observation
            for index in heartbeatEventIndices.reversed() { actual.events.remove(at: index) }
            actual.blankLines -= heartbeatEventIndices.count
            guard actual == expected else {
                throw fail("\(step): client state differs\n  without proxy: \(expected)\n  with proxy:    \(actual)")
            }
            guard streamEnded || tracker.isAtSafePoint == proxied.isAtLineStart else {
                throw fail("\(step): isAtSafePoint=\(tracker.isAtSafePoint) but client at line start=\(proxied.isAtLineStart)")
            }
        }

        func attemptHeartbeatEvent(_ step: String) throws {
            let before = proxied.observation
            let boundary = tracker.isAtEventBoundary
            guard let bytes = tracker.heartbeatEvent(type: "hb-event", data: "t\(before.events.count)") else {
                if boundary, tracker.boundaryDispatch == .clearsCarriedLastEventID {
                    coverage.heartbeatEventsRefusedForCarriedID += 1
                }
                return
            }
            guard proxied.isAtLineStart, before.dataBuffer.isEmpty, before.eventTypeBuffer.isEmpty,
                  before.lastEventIdBuffer.utf8.elementsEqual(before.lastEventIdString.utf8)
            else { throw fail("\(step): a heartbeat event where its blank line changes the client's state: \(before)") }
            proxied.feed(bytes)
            let expected = SpecEventStreamParser.Event(
                type: "hb-event", data: "t\(before.events.count)", lastEventId: before.lastEventIdString)
            guard proxied.events.count == before.events.count + 1, proxied.events.last == expected,
                  proxied.lastEventIdString.utf8.elementsEqual(before.lastEventIdString.utf8)
            else { throw fail("\(step): heartbeat event \(expected) seen as \(proxied.observation)") }
            heartbeatEventIndices.append(before.events.count)
            coverage.heartbeatEventsInjected += 1
            try check("\(step) after heartbeat event \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }

        func attemptHeartbeats(_ step: String) throws {
            if triesHeartbeatEvents { try attemptHeartbeatEvent(step) }
            for attempt in 0..<rng.int(0...3) {
                let clientAtLineStart = proxied.isAtLineStart
                let position = tracker.linePosition
                let afterBlankLine = proxied.blankLines > 0 && proxied.isAtLineStart
                let comment = rng.pick(["", "hb", "keep-alive ✓", "x: y", "a\rb\nc"])
                let injected = tracker.heartbeat(comment: comment)
                // Never skip needlessly: at every real line start there must be an injection form.
                guard (injected != nil) == clientAtLineStart else {
                    throw fail("\(step) attempt \(attempt): heartbeat \(injected == nil ? "refused" : "given") "
                        + "but client at line start=\(clientAtLineStart)")
                }
                guard let bytes = injected else {
                    coverage.heartbeatsRefused += 1
                    continue
                }
                coverage.heartbeatsInjected += 1
                if position == .afterCarriageReturn { coverage.injectionsAfterCarriageReturn += 1 }
                if afterBlankLine { coverage.injectionsAfterBlankLine += 1 }
                proxied.feed(bytes)
                try check("\(step) after heartbeat \(attempt) \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
        }

        if rng.chance(0.2) {
            let milliseconds = rng.pick([0, 1500, 30_000])
            proxied.feed(tracker.retryPreamble(milliseconds: milliseconds))
            preambleRetry = [String(milliseconds)]
        }
        try check("start")
        try attemptHeartbeats("start")

        var offset = 0
        for (index, length) in lengths.enumerated() {
            let chunk = Array(upstream[offset..<offset + length])
            offset += length
            original.feed(chunk)
            chunk.withUnsafeBytes { raw in
                tracker.forward(raw) { slice in
                    forwarded.append(contentsOf: slice)
                    proxied.feed(slice)
                }
            }
            try check("after read \(index)")
            try attemptHeartbeats("after read \(index)")
        }

        let flushed = tracker.finish()
        forwarded += flushed
        proxied.feed(flushed)
        original.finish()
        proxied.finish()
        try check("end of stream", streamEnded: true)

        // No upstream byte is lost, duplicated or reordered; only a leading BOM may be dropped.
        let expectedForwarded = tracker.droppedByteOrderMark ? Array(upstream.dropFirst(3)) : upstream
        guard forwarded == expectedForwarded else {
            throw fail("forwarded bytes differ from upstream (dropped BOM: \(tracker.droppedByteOrderMark))")
        }
        if tracker.droppedByteOrderMark { coverage.droppedByteOrderMarks += 1 }
        coverage.eventsDispatched += original.events.count
        coverage.cases += 1
    }
}
