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
}
