import Testing
@testable import SSEKeeperCore

/// `HTTP2ConnectionMachine` against malformed requests (RFC 9113 §8.1.1) and floods (§10.5), fed whole, byte
/// by byte and in random pieces.
@Suite struct HTTP2ConnectionMachineAbuseTests {
    typealias Feeding = HTTP2ConnectionFeeding

    static let malformedRequests: [(String, [(String, String)], [UInt8]?)] = [
        ("missing :path", [(":method", "GET"), (":scheme", "https"), (":authority", "a")], nil),
        ("uppercase name", HTTP2TestClient.request("GET", "/") + [("Accept", "*/*")], nil),
        ("connection header", HTTP2TestClient.request("GET", "/") + [("connection", "keep-alive")], nil),
        ("transfer-encoding", HTTP2TestClient.request("POST", "/") + [("transfer-encoding", "chunked")], nil),
        ("te other than trailers", HTTP2TestClient.request("GET", "/") + [("te", "gzip")], nil),
        ("pseudo-header after a field", [(":method", "GET"), (":scheme", "https"), ("accept", "*/*"), (":path", "/")], nil),
        ("unknown pseudo-header", HTTP2TestClient.request("GET", "/") + [(":status", "200")].reversed(), nil),
        ("empty :path", HTTP2TestClient.request("GET", ""), nil),
        ("CR in a value", HTTP2TestClient.request("GET", "/") + [("x-a", "1\r\nx-b: 2")], nil),
        ("non-digit content-length", HTTP2TestClient.request("POST", "/") + [("content-length", "1e3")], Array("x".utf8)),
        ("two content-lengths", HTTP2TestClient.request("POST", "/") + [("content-length", "3"), ("content-length", "4")], Array("abc".utf8)),
        ("body longer than content-length", HTTP2TestClient.request("POST", "/") + [("content-length", "2")], Array("abc".utf8)),
        ("body shorter than content-length", HTTP2TestClient.request("POST", "/") + [("content-length", "9")], Array("abc".utf8)),
        ("host differing from :authority", HTTP2TestClient.request("GET", "/") + [("host", "other.example")], nil),
    ]

    @Test(arguments: 0..<malformedRequests.count)
    func malformedRequests_areResetWithProtocolError(_ index: Int) {
        let (name, fields, body) = Self.malformedRequests[index]
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, fields, endStream: body == nil)
        if let body { client.data(1, body, endStream: true) }
        client.get(3)  // the connection goes on
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take())
        #expect(outcome.resets == [1: .protocolError], "\(name)")
        #expect(outcome.opened.last == 3 && outcome.goaway == nil, "\(name)")
    }

    static let floods: [(String, HTTP2FloodGuard.Budgets, @Sendable (inout HTTP2TestClient) -> Void)] = [
        ("PING", HTTP2FloodGuard.Budgets(ping: 5), { client in
            for index in 0..<6 { client.frame(.ping(opaqueData: UInt64(index))) } }),
        ("SETTINGS", HTTP2FloodGuard.Budgets(settings: 5), { client in
            for _ in 0..<6 { client.frame(.settings([])) } }),
        ("rapid reset", HTTP2FloodGuard.Budgets(resetStream: 5), { client in
            for index in 0..<6 {
                client.get(UInt32(2 * index + 1))
                client.frame(.rstStream(stream: UInt32(2 * index + 1), errorCode: .cancel))
            } }),
        ("empty DATA", HTTP2FloodGuard.Budgets(emptyData: 5), { client in
            client.headers(1, HTTP2TestClient.request("POST", "/"), endStream: false)
            for _ in 0..<6 { client.data(1, [], endStream: false) } }),
    ]

    @Test(arguments: 0..<floods.count)
    func floods_endTheConnection_withGoawayEnhanceYourCalm(_ index: Int) {
        let (name, budgets, build) = Self.floods[index]
        var client = HTTP2TestClient()
        client.preface()  // the first SETTINGS counts too
        build(&client)
        let budgetsPlusPreface = name == "SETTINGS" ? HTTP2FloodGuard.Budgets(settings: budgets.settings + 1) : budgets
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: HTTP2ConnectionConfiguration(
            floodBudgets: budgetsPlusPreface)), client.take())
        #expect(outcome.goaway?.code == .enhanceYourCalm, "\(name)")
        guard case .closeConnection(.connectionError(.enhanceYourCalm, _))? = outcome.events.last else {
            Issue.record("\(name): \(outcome.events)")
            return
        }
        #expect(machine.isClosed)
    }

    @Test func rapidReset_withTheDefaultBudget_isCutOffAtThe501stResetInTenSeconds() {
        // CVE-2023-44487: open a stream, reset it, repeat; never more than one stream live, so only the
        // RST_STREAM budget (500 per 10 s by default) stops it.
        var client = HTTP2TestClient()
        client.preface()
        for index in 0..<501 {
            client.get(UInt32(2 * index + 1))
            client.frame(.rstStream(stream: UInt32(2 * index + 1), errorCode: .cancel))
        }
        client.get(1_003)  // after the GOAWAY: never read
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(), client.take(), now: 9_000_000_000)
        #expect(outcome.opened.count == 501)
        #expect(outcome.events.filter { if case .streamReset = $0 { true } else { false } }.count == 500)
        #expect(outcome.goaway?.code == .enhanceYourCalm && outcome.goaway?.lastStreamID == 1_001)
        guard case .closeConnection(.connectionError(.enhanceYourCalm, _))? = outcome.events.last else {
            Issue.record("\(outcome.events.suffix(3))")
            return
        }
        #expect(machine.isClosed)
    }

    @Test func resetsSpreadOverTime_withinTheBudget_keepTheConnection() {
        let budgets = HTTP2FloodGuard.Budgets(resetStream: 5)
        var machine = Feeding.started(HTTP2ConnectionConfiguration(floodBudgets: budgets))
        var client = HTTP2TestClient()
        for index in 0..<20 {
            let stream = UInt32(2 * index + 1)
            client.get(stream)
            client.frame(.rstStream(stream: stream, errorCode: .cancel))
            let outcome = HTTP2ConnectionOutcome(machine.receive(client.take(), now: UInt64(index) * 3_000_000_000))
            #expect(outcome.events == [.openStream(stream, requestHead: HTTP2TestClient.request("GET", "/events").map {
                HPACKHeaderField($0.0, $0.1) }, endStream: true), .streamReset(stream, .cancel)])
        }
        #expect(!machine.isClosed)
    }

    @Test(arguments: (1...16).map { UInt64($0) })
    func randomClientsAndProxies_keepTheInvariants(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let configuration = HTTP2ConnectionConfiguration(maxConcurrentStreams: 4, initialWindowSize: 4_000,
                                                         connectionWindowSize: 8_000)
        var machine = HTTP2ConnectionMachine(configuration: configuration)
        var client = HTTP2TestClient()
        client.preface([HTTP2Setting(.initialWindowSize, UInt32(random.int(0...60_000)))])
        var written: [UInt8] = []
        var nextStream: UInt32 = 1
        var opened: [UInt32] = []
        var now: UInt64 = 0
        var connectionIncrements = 0
        var steps = 0
        for _ in 0..<300 where !machine.isClosed {
            steps += 1
            now += UInt64(random.int(0...50_000_000))
            let known = opened.isEmpty ? 0 : random.pick(opened)
            switch known == 0 ? 0 : random.int(0...9) {
            case 0, 1:
                client.headers(nextStream, HTTP2TestClient.request(random.pick(["GET", "POST"]), "/"), endStream: random.chance(0.5))
                nextStream += 2
            case 2: client.data(known, [UInt8](repeating: 1, count: random.int(1...1_000)), endStream: random.chance(0.3))
            case 3: client.frame(.rstStream(stream: known, errorCode: .cancel))
            case 4:
                let increment = random.int(1...5_000)
                let stream = random.chance(0.15) ? 0 : known
                if stream == 0 { connectionIncrements += increment }
                client.frame(.windowUpdate(stream: stream, increment: UInt32(increment)))
            case 5: client.frame(.settings([HTTP2Setting(.initialWindowSize, UInt32(random.int(0...60_000)))]))
            case 6: client.frame(.ping(opaqueData: UInt64(random.int(0...1_000))))
            case 7: written += bytes(machine.sendData(stream: known, bytes: [UInt8](repeating: 2, count: random.int(0...20_000)),
                                                       endStream: random.chance(0.3)).actions)
            case 8: written += bytes(machine.sendHeaders(stream: known, status: 200, fields: [], endStream: random.chance(0.2)))
            default: written += bytes(machine.resetStream(stream: known, code: .cancel))
            }
            let actions = machine.receive(client.take(), now: now)
            written += bytes(actions)
            for case .openStream(let stream, _, _) in actions { opened.append(stream) }
            for case .requestData(let stream, let body, _) in actions where random.chance(0.7) {
                written += bytes(machine.bodyConsumed(stream: stream, count: body.count))
            }
            #expect(machine.liveStreamCount <= configuration.maxConcurrentStreams)
            #expect(machine.connectionSendWindow <= Int(HTTP2Settings.maxWindowSize))
        }
        // Everything the server wrote parses as frames, and DATA never exceeded the connection window the client
        // allowed (RFC 9113 §6.9.1: 65,535 plus its WINDOW_UPDATEs on stream 0).
        let frames = Feeding.frames(written)
        #expect(frames.first == .settings(configuration.settings))
        let dataBytes = frames.reduce(0) { $0 + $1.flowControlledLength }
        #expect(dataBytes > 0 && opened.count > 5)
        #expect(dataBytes <= 65_535 + connectionIncrements, "\(dataBytes) bytes of DATA")
        #expect(steps == 300, "the connection closed early: \(frames.last.map { "\($0)" } ?? "")")
    }

    /// The bytes of the `.write` actions.
    private func bytes(_ actions: [HTTP2ConnectionAction]) -> [UInt8] {
        actions.flatMap { if case .write(let bytes) = $0 { return bytes } else { return [] } }
    }
}
