import Testing
@testable import SSEKeeperCore

/// `HTTP2ConnectionMachine.deadline` and `deadlineReached(now:)`: our SETTINGS unacknowledged for
/// `settingsAckTimeoutNanos` is a connection error SETTINGS_TIMEOUT (RFC 9113 §6.5.3).
@Suite struct HTTP2SettingsTimeoutTests {
    typealias Feeding = HTTP2ConnectionFeeding

    static let timeout = HTTP2ConnectionConfiguration.defaultSettingsAckTimeoutNanos

    @Test func theDefaultTimeout_isTenSeconds() {
        #expect(HTTP2ConnectionConfiguration().settingsAckTimeoutNanos == 10_000_000_000)
    }

    @Test func unacknowledgedSettings_failTheConnection_withSettingsTimeout_atTheDeadline_notBefore() {
        var machine = HTTP2ConnectionMachine()
        #expect(machine.deadline == nil)  // nothing sent yet
        _ = machine.start(now: 1_000)
        #expect(machine.deadline == 1_000 + Self.timeout)
        var client = HTTP2TestClient()
        client.preface()
        client.get(1)
        _ = machine.receive(client.take(), now: 2_000)  // the client's SETTINGS, but no ACK of ours
        #expect(machine.deadline == 1_000 + Self.timeout)
        #expect(machine.deadlineReached(now: 1_000 + Self.timeout - 1).isEmpty)
        let outcome = HTTP2ConnectionOutcome(machine.deadlineReached(now: 1_000 + Self.timeout))
        #expect(outcome.frames == [.goaway(lastStreamID: 1, errorCode: .settingsTimeout, debugData: [])])
        guard case .closeConnection(.connectionError(.settingsTimeout, _))? = outcome.events.last else {
            Issue.record("\(outcome.events)")
            return
        }
        #expect(machine.isClosed && machine.deadline == nil)
        #expect(machine.deadlineReached(now: .max).isEmpty)
    }

    @Test func anAcknowledgement_clearsTheDeadline() {
        var machine = HTTP2ConnectionMachine()
        var client = HTTP2TestClient()
        client.preface()
        _ = machine.receive(client.take(), now: 50)  // no start: the preface is sent on the client's, at 50
        #expect(machine.deadline == 50 + Self.timeout)
        client.frame(.settingsAck)
        let (acknowledged, outcome) = Feeding.run(machine, client.take(), now: 60)
        #expect(outcome.frames.isEmpty && outcome.events.isEmpty)
        machine = acknowledged
        #expect(machine.deadline == nil)
        #expect(machine.deadlineReached(now: 50 + 2 * Self.timeout).isEmpty && !machine.isClosed)
    }

    @Test func startWithoutTime_datesTheSettingsAtTheFirstCallThatBringsOne() {
        var machine = HTTP2ConnectionMachine()
        _ = machine.start()
        #expect(machine.deadline == nil)
        _ = machine.receive(Array(HTTP2FrameParser.clientPreface.prefix(5)), now: 700)
        #expect(machine.deadline == 700 + Self.timeout)

        var pinged = HTTP2ConnectionMachine()
        _ = pinged.start()
        _ = pinged.ping(now: 900)
        #expect(pinged.deadline == 900 + Self.timeout)
    }

    @Test func start_afterTheConnectionClosed_writesNothing() {
        // Found by the h2_connection fuzz target: a broken preface closed the connection, then start() wrote SETTINGS.
        var machine = HTTP2ConnectionMachine()
        _ = machine.receive(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n,".utf8), now: 0)
        #expect(machine.isClosed)
        #expect(machine.start(now: 5).isEmpty && machine.start().isEmpty && machine.deadline == nil)
    }

    @Test func aShortConfiguredTimeout_applies_andAHugeSendTimeSaturates() {
        var machine = HTTP2ConnectionMachine(configuration: HTTP2ConnectionConfiguration(settingsAckTimeoutNanos: 5))
        _ = machine.start(now: 10)
        #expect(machine.deadline == 15)
        #expect(machine.deadlineReached(now: 14).isEmpty)
        #expect(machine.deadlineReached(now: 16).contains { if case .closeConnection = $0 { true } else { false } })

        var late = HTTP2ConnectionMachine()
        _ = late.start(now: .max - 1)
        #expect(late.deadline == .max)
    }
}
