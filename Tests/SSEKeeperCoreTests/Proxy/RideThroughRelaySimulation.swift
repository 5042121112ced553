@testable import SSEKeeperCore

/// One case of `ResponseRelayRideThroughPropertyTests`: a ride-through `ResponseRelay` driven the way the shell
/// drives it (`ProxyStream+Response`, `ProxyStream+RideThrough`), and a client whose connections break.
///
/// The shell's rules it follows: every write that sent bytes is followed by `noteClientWrite(at:)`; heartbeats are
/// polled only while a client is attached (`ProxyStream+Liveness`); a broken connection is noticed some writes after
/// it broke (its bytes were written and are lost), then `setClientAttached(false)`; while detached each read's output
/// is dropped and a full ring stops the reads (back-pressure); a reconnect carrying this stream's id is given
/// `reattach(...)`, sometimes before the old connection's break was noticed (a take-over); an upstream that ends
/// while nobody is attached is held until the client is back, which then gets the replay and `endBody`.
struct RideThroughRelaySimulation {
    typealias Failure = PropertyCases.Failure
    typealias Event = SpecEventStreamParser.Event

    /// How a case ended before the upstream's end reached a client.
    enum EarlyEnd: Equatable {
        /// The client came back without an id of this stream: a new request, which the relay never sees.
        case newRequest
        /// `reattach` returned nil: the events the client missed are no longer held.
        case tooOld
    }

    /// What one case exercised.
    struct Coverage {
        var cuts = 0
        var heartbeatsDeliveredWhileAttached = 0
        var heartbeatEventsDispatched = 0
        var replayedEvents = 0
        var reattached = 0
        var reattachedChunked = 0
        var takeovers = 0
        var detachedReads = 0
        var backPressureStops = 0
        var endedWhileAway = 0
        var tooOldWhilePassingThrough = 0
    }

    /// What kind of write the client reads: its dispatched events are the backend's, or a heartbeat.
    enum WriteKind { case relayed, heartbeat }

    let seed: UInt64
    var rng: SplitMix64
    var relay: ResponseRelay
    var output = RelayOutput(capacity: 64)
    var now: UInt64 = 1_000
    var wallClockMilliseconds: Int64 = 1_700_000_000_000
    /// The stream token's text.
    let token: [UInt8]
    /// `client_resume_buffer`.
    let budget: Int
    /// The stamped size of every event, by seq - 1 (`Int.max / 4` for one passed through, over the budget).
    let eventSizes: [Int]
    /// The heartbeat event's type and data as the client reads them (nil type: `heartbeat_event off`).
    let heartbeatType: String?
    let heartbeatData: String?
    /// Upstream wire bytes not read yet: a connection's cut is drawn within about what it can still get.
    var upstreamLeft: Int
    let maxConnections: Int
    /// Says what the case is, for failures.
    let description: String

    /// The client's current connection, while the relay has it attached (it may be broken, not yet noticed).
    var connection: RideThroughClientConnection?
    /// Writes a broken connection still takes before the relay is told.
    var detectAfter = 0
    /// Reads the relay makes while detached before the client is back.
    var awayReads = 0
    var connections = 1
    /// The client's last event ID string: the request's `Last-Event-ID` at first, then what its parser held.
    var carried: String
    /// What the first connection carried in.
    let initialCarried: String
    /// The backend events the client dispatched over all its connections.
    var dispatched: [Event] = []
    var earlyEnd: EarlyEnd?
    /// The upstream ended while nobody was attached.
    var upstreamEnded = false
    var coverage = Coverage()

    func fail(_ message: String) -> Failure {
        Failure(seed: seed, message: "\(description): \(message)")
    }

    /// How many raw bytes the next connection gets before it breaks (nil: it does not).
    mutating func drawCut() -> Int? {
        guard !upstreamEnded, connections < maxConnections, rng.chance(0.75) else { return nil }
        return rng.int(0...upstreamLeft * 3 / 2 + 150)
    }

    /// The head of connection `number`.
    static func head(_ number: Int, framing: ClientFraming) -> [UInt8] {
        Array("HTTP/1.1 200 OK\r\nX-Connection: \(number)\r\nX-Framing: \(framing)\r\n\r\n".utf8)
    }

    /// The first client's response head and preamble.
    mutating func begin(clientFraming: ClientFraming) throws {
        let head = Self.head(1, framing: clientFraming)
        connection = RideThroughClientConnection(head: head, framing: clientFraming, lastEventIdString: carried,
                                                 cutAt: drawCut())
        detectAfter = rng.int(0...2)
        output.removeAll()
        relay.begin(head: head, into: &output)
        try write(.relayed)
    }

    /// One upstream read: relayed to the client if one is attached, dropped otherwise.
    mutating func read(_ chunk: ArraySlice<UInt8>) throws -> ResponseRelay.Outcome? {
        guard earlyEnd == nil else { return nil }
        while connection == nil, earlyEnd == nil, relay.replay?.isFull == true {
            // Back-pressure: the shell reads no more until the client is back (or the window ends).
            coverage.backPressureStops += 1
            try reconnect()
        }
        guard earlyEnd == nil else { return nil }
        upstreamLeft -= chunk.count
        output.removeAll()
        let outcome = Array(chunk).withUnsafeBytes { relay.relay($0, into: &output) }
        if connection != nil {
            try write(.relayed)
        } else {
            output.removeAll()
            coverage.detachedReads += 1
            awayReads -= 1
            if awayReads <= 0 { try reconnect() }
        }
        return outcome
    }

    /// Between reads: time passes; while a client is attached, heartbeats are polled and written.
    mutating func interlude(interval: UInt64) throws {
        for _ in 0..<rng.int(0...2) {
            now += rng.pick([0, interval / 2, interval - 1, interval, 3 * interval])
            wallClockMilliseconds += Int64(rng.int(0...5_000))
            guard earlyEnd == nil, connection != nil else { continue }
            output.removeAll()
            let outcome = relay.heartbeat(now: now, wallClockMilliseconds: wallClockMilliseconds,
                                          clientBacklogged: rng.chance(0.1), into: &output)
            if case .sent = outcome {
                guard !output.isEmpty else { throw fail("a heartbeat was sent with no bytes") }
                try write(.heartbeat)
            } else if !output.isEmpty {
                throw fail("a heartbeat that was not sent appended \(output.count) bytes")
            }
        }
    }

    /// The shell writes the output to the attached connection (or drops it, with nobody attached); the client reads
    /// what arrives before its cut.
    mutating func write(_ kind: WriteKind) throws {
        guard !output.isEmpty else { return }
        let bytes = output.withUnsafeBytes { Array($0) }
        output.removeAll()
        guard var client = connection else { return }
        relay.noteClientWrite(at: now)
        let wasBroken = client.isBroken
        let eventsBefore = client.parser.events.count
        let idBefore = client.parser.lastEventIdString
        client.receive(bytes)
        connection = client
        let new = client.parser.events[eventsBefore...]
        switch kind {
        case .relayed:
            dispatched += new
        case .heartbeat:
            guard client.parser.lastEventIdString.utf8.elementsEqual(idBefore.utf8) else {
                throw fail("a heartbeat changed the last event ID string \(idBefore.debugDescription) to "
                    + client.parser.lastEventIdString.debugDescription)
            }
            if let event = new.first {
                let expected = Event(type: heartbeatType ?? "-", data: heartbeatData ?? String(wallClockMilliseconds),
                                     lastEventId: idBefore)
                guard new.count == 1, heartbeatType != nil, event == expected else {
                    throw fail("a heartbeat made the client dispatch \(Array(new)); expected at most \(expected)")
                }
                coverage.heartbeatEventsDispatched += 1
            }
            if !wasBroken { coverage.heartbeatsDeliveredWhileAttached += 1 }
        }
        guard client.isBroken else { return }
        if detectAfter > 0 {
            detectAfter -= 1
        } else {
            try detect()
        }
    }

    /// The shell notices the broken connection: the client keeps what it dispatched and its last event ID string;
    /// the relay is told, unless the client's reconnect comes first (a take-over).
    mutating func detect() throws {
        guard var client = connection else { return }
        client.close()
        try checkClosed(client)
        carried = client.parser.lastEventIdString
        connection = nil
        coverage.cuts += 1
        if rng.chance(0.2) {
            coverage.takeovers += 1
            try reconnect()
            return
        }
        relay.setClientAttached(false)
        // Back soon, after a few reads, or (until back-pressure stops the reads) after the rest of the stream.
        awayReads = rng.chance(0.4) ? 0 : rng.chance(0.75) ? rng.int(1...4) : .max
        if awayReads == 0 { try reconnect() }
    }

    /// A closed connection's client: framing intact, and its last event ID string is the id of the last event
    /// it dispatched (what it carried before the first).
    func checkClosed(_ client: RideThroughClientConnection) throws {
        if let problem = client.problem { throw fail("connection \(connections): \(problem)") }
        let expectedID = dispatched.last?.lastEventId ?? initialCarried
        guard client.parser.lastEventIdString.utf8.elementsEqual(expectedID.utf8) else {
            throw fail("connection \(connections) closed with last event ID \(client.parser.lastEventIdString.debugDescription), "
                + "its last event's is \(expectedID.debugDescription)")
        }
    }

    /// The client reconnects with `carried` as `Last-Event-ID`.
    mutating func reconnect() throws {
        guard earlyEnd == nil else { return }
        guard let stamped = StampedEventID(parsing: carried), stamped.token.textBytes == token else {
            // No id of this stream (none yet, or the one the first request carried): the shell sends it to the
            // backend as a new request (`RideThroughReconnect`), so this stream's relay has no part in it.
            guard dispatched.isEmpty else {
                throw fail("after \(dispatched.count) events the client carries \(carried.debugDescription)")
            }
            earlyEnd = .newRequest
            return
        }
        connections += 1
        let framing: ClientFraming = rng.chance(0.5) ? .chunked : .closeDelimited
        let head = Self.head(connections, framing: framing)
        let lastSeq = relay.replay?.stamper.lastSeq ?? 0
        output.removeAll()
        guard let replayed = relay.reattach(head: head, clientFraming: framing, carriedLastEventID: carried,
                                            after: stamped.sequence, now: now, into: &output) else {
            guard output.isEmpty else { throw fail("a refused reattach appended \(output.count) bytes") }
            if try checkTooOld(after: stamped.sequence) { coverage.tooOldWhilePassingThrough += 1 }
            earlyEnd = .tooOld
            return
        }
        guard UInt64(replayed.events) == lastSeq - stamped.sequence else {
            throw fail("reattach after \(stamped.sequence) replayed \(replayed.events) events; \(lastSeq) were stamped")
        }
        guard relay.replay?.clientAttached == true else { throw fail("the ring does not know a client is attached") }
        coverage.reattached += 1
        coverage.replayedEvents += replayed.events
        if framing == .chunked { coverage.reattachedChunked += 1 }
        connection = RideThroughClientConnection(head: head, framing: framing, lastEventIdString: carried, cutAt: drawCut())
        detectAfter = rng.int(0...2)
        try write(.relayed)
    }

    /// `reattach` refused position `position`: only because the events after it are more than the budget holds
    /// (or one of them is passing through right now, which is larger than the budget: then true).
    func checkTooOld(after position: UInt64) throws -> Bool {
        guard let replay = relay.replay else { throw fail("no replay on a ride-through relay") }
        let lookup = replay.lookup(after: position)
        guard lookup == .tooOld else { throw fail("reattach after \(position) refused, lookup says \(lookup)") }
        if !replay.stamper.isAtEventBoundary { return true }
        let newest = Int(replay.stamper.lastSeq)
        guard newest <= eventSizes.count else { throw fail("\(newest) events stamped, the backend has \(eventSizes.count)") }
        let missed = eventSizes[Int(position)..<newest].reduce(0) { min($0 + $1, Int.max / 2) }
        guard missed > budget else {
            throw fail("reattach after \(position) refused, though the \(newest - Int(position)) events since "
                + "(\(missed) bytes) fit client_resume_buffer \(budget)")
        }
        return false
    }

    /// The upstream's body is complete: the attached client gets the end; with nobody attached the end waits for
    /// the client, which then gets its events and the end.
    mutating func finishUpstream() throws {
        while earlyEnd == nil, connection?.isBroken == true {
            // The shell learns of a broken connection at the latest when it ends the response.
            try detect()
        }
        guard earlyEnd == nil else { return }
        if connection != nil {
            connection!.cutAt = nil
            output.removeAll()
            relay.finish(into: &output)
            try write(.relayed)
        } else {
            upstreamEnded = true
            coverage.endedWhileAway += 1
            try reconnect()
            guard earlyEnd == nil else { return }
            output.removeAll()
            relay.endBody(into: &output)
            try write(.relayed)
        }
        guard var client = connection else { throw fail("no client at the end") }
        client.close()
        try checkClosed(client)
        if client.framing == .chunked, !client.sawLastChunk { throw fail("the last chunk did not arrive") }
        connection = nil
    }
}
