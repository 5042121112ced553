import Testing
@testable import SSEKeeperCore

/// `HTTP2ConnectionMachine.bodyConsumed`: a stream's receive window comes back only as the proxy passes the
/// request body on (RFC 9113 §5.2, §6.9), while the connection window is replenished on receipt.
@Suite struct HTTP2RequestBodyFlowControlTests {
    typealias Feeding = HTTP2ConnectionFeeding

    /// Stream windows of 4,000 bytes, a 4 MiB connection window.
    static let configuration = HTTP2ConnectionConfiguration(initialWindowSize: 4_000)

    /// The WINDOW_UPDATE frames of `frames`, as (stream, increment).
    static func updates(_ frames: [HTTP2Frame]) -> [HTTP2Frame] {
        frames.filter { if case .windowUpdate = $0 { return true } else { return false } }
    }

    /// A machine with stream 1 open for an upload (its output dropped).
    static func uploading(_ configuration: HTTP2ConnectionConfiguration = configuration) -> HTTP2ConnectionMachine {
        var machine = Feeding.started(configuration)
        var client = HTTP2TestClient()
        client.headers(1, HTTP2TestClient.request("POST", "/upload"), endStream: false)
        _ = machine.receive(client.take(), now: 0)
        return machine
    }

    @Test func aFullStreamWindow_withoutBodyConsumed_getsNoStreamUpdate_andMoreDataIsFlowControlError() {
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/upload"), endStream: false)
        client.data(1, [UInt8](repeating: 7, count: 4_000), endStream: false)
        let (full, filled) = Feeding.run(HTTP2ConnectionMachine(configuration: Self.configuration), client.take())
        #expect(Self.updates(filled.frames).allSatisfy { $0.stream == 0 }, "\(filled.frames)")
        #expect(filled.resets.isEmpty && filled.events.last == .requestData(1, [UInt8](repeating: 7, count: 4_000), endStream: false))

        client.data(1, [7], endStream: false)
        let (_, over) = Feeding.run(full, client.take())
        #expect(over.resets == [1: .flowControlError])
        #expect(over.events == [.streamReset(1, .flowControlError)])
    }

    @Test func bodyConsumed_sendsTheStreamUpdate_onceHalfTheWindowIsConsumed_andTheClientMaySendAgain() {
        var machine = Self.uploading()
        var client = HTTP2TestClient()
        client.data(1, [UInt8](repeating: 7, count: 4_000), endStream: false)
        _ = machine.receive(client.take(), now: 0)
        #expect(machine.bodyConsumed(stream: 1, count: 1_999).isEmpty)
        let update = HTTP2ConnectionOutcome(machine.bodyConsumed(stream: 1, count: 1))
        #expect(update.frames == [.windowUpdate(stream: 1, increment: 2_000)] && update.events.isEmpty)

        client.data(1, [UInt8](repeating: 8, count: 2_000), endStream: false)
        let (_, more) = Feeding.run(machine, client.take())
        #expect(more.resets.isEmpty && more.events == [.requestData(1, [UInt8](repeating: 8, count: 2_000), endStream: false)])
    }

    @Test func theConnectionWindow_isReplenishedOnReceipt_soAStalledStreamDoesNotStallTheOthers() {
        let configuration = HTTP2ConnectionConfiguration(initialWindowSize: 40_000, connectionWindowSize: 65_535)
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/slow"), endStream: false)
        client.headers(3, HTTP2TestClient.request("POST", "/fast"), endStream: false)
        client.data(1, [UInt8](repeating: 1, count: 40_000), endStream: false)  // nobody consumes stream 1
        client.data(3, [UInt8](repeating: 3, count: 40_000), endStream: true)
        let (machine, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: configuration), client.take())
        // 80,000 bytes through a 65,535-byte connection window: returned on receipt, each stream's left alone.
        let updates = Self.updates(outcome.frames)
        #expect(!updates.isEmpty && updates.allSatisfy { $0.stream == 0 }, "\(updates)")
        let returned = updates.reduce(0) { total, frame in
            if case .windowUpdate(_, let increment) = frame { total + Int(increment) } else { total }
        }
        #expect(returned >= 80_000 - 65_535)
        #expect(outcome.resets.isEmpty && outcome.goaway == nil)
        #expect(outcome.events.last == .requestData(3, [UInt8](repeating: 3, count: 7_232), endStream: true))
        #expect(machine.liveStreamCount == 2)
    }

    @Test func aConnectionWindowBelow65535_stillLetsTheClientUseTheProtocolsInitialWindow() {
        // No frame can shrink the connection window below 65,535 (§6.9.2): it shrinks to 8,000 as it is used.
        let configuration = HTTP2ConnectionConfiguration(initialWindowSize: 65_535, connectionWindowSize: 8_000)
        var client = HTTP2TestClient()
        client.preface()
        client.headers(1, HTTP2TestClient.request("POST", "/upload"), endStream: false)
        client.data(1, [UInt8](repeating: 1, count: 60_000), endStream: false)
        client.data(1, [UInt8](repeating: 2, count: 3_000), endStream: false)
        let (_, outcome) = Feeding.run(HTTP2ConnectionMachine(configuration: configuration), client.take())
        #expect(outcome.goaway == nil && outcome.resets.isEmpty)
        #expect(Self.updates(outcome.frames) == [.windowUpdate(stream: 0, increment: 5_465)])  // 2,535 left + 5,465
    }

    @Test func padding_isReturnedByTheMachine_theBodyOnlyByBodyConsumed() {
        let configuration = HTTP2ConnectionConfiguration(initialWindowSize: 1_000)
        var machine = Self.uploading(configuration)
        var client = HTTP2TestClient()
        // Two frames of 10 bytes padded with 255: 266 window bytes each, 512 of them padding (past half of 1,000).
        client.frame(.data(stream: 1, payload: [UInt8](repeating: 1, count: 10), endStream: false, paddingLength: 255))
        client.frame(.data(stream: 1, payload: [UInt8](repeating: 2, count: 10), endStream: false, paddingLength: 255))
        let (fed, outcome) = Feeding.run(machine, client.take())
        #expect(Self.updates(outcome.frames) == [.windowUpdate(stream: 1, increment: 512)])
        #expect(outcome.events == [.requestData(1, [UInt8](repeating: 1, count: 10), endStream: false),
                                   .requestData(1, [UInt8](repeating: 2, count: 10), endStream: false)])
        machine = fed
        #expect(machine.bodyConsumed(stream: 1, count: 20).isEmpty)  // 20 of 1,000: not yet half
        // 1,000 − 532 + 512 = 980 bytes left in the stream's window: 980 go, 981 would not.
        client.data(1, [UInt8](repeating: 3, count: 980), endStream: false)
        let (_, fits) = Feeding.run(machine, client.take())
        #expect(fits.resets.isEmpty)
        client.data(1, [UInt8](repeating: 3, count: 981), endStream: false)
        let (_, over) = Feeding.run(machine, client.take())
        #expect(over.resets == [1: .flowControlError])
    }

    @Test func bodyConsumed_ignoresGoneAndEndedStreams_andNeverReturnsMoreThanTheClientSent() {
        var machine = Self.uploading()
        var client = HTTP2TestClient()
        client.data(1, [UInt8](repeating: 7, count: 2_500), endStream: false)
        client.headers(3, HTTP2TestClient.request("POST", "/done"), endStream: false)
        client.data(3, [UInt8](repeating: 7, count: 3_000), endStream: true)
        _ = machine.receive(client.take(), now: 0)
        #expect(machine.bodyConsumed(stream: 3, count: 3_000).isEmpty)  // the client ended its request
        #expect(machine.bodyConsumed(stream: 5, count: 3_000).isEmpty)  // never opened
        #expect(machine.bodyConsumed(stream: 1, count: 0).isEmpty && machine.bodyConsumed(stream: 1, count: -5).isEmpty)
        // A proxy reporting more than arrived gives back only the 2,500 bytes the client used.
        #expect(HTTP2ConnectionOutcome(machine.bodyConsumed(stream: 1, count: 1_000_000)).frames
                == [.windowUpdate(stream: 1, increment: 2_500)])
        client.data(1, [UInt8](repeating: 7, count: 4_001), endStream: false)
        #expect(HTTP2ConnectionOutcome(machine.receive(client.take(), now: 0)).resets == [1: .flowControlError])
        #expect(machine.bodyConsumed(stream: 1, count: 4_000).isEmpty)  // reset: gone
    }
}
