import Testing
@testable import SSEKeeperCore

/// `HTTP2ConnectionMachine` reuses the frame buffer and the action list one call handed out for a later call: what
/// each call returns must stay its own, whether the shell still holds an earlier call's actions or not.
@Suite struct HTTP2ConnectionMachineOutputTests {
    typealias Feeding = HTTP2ConnectionFeeding

    /// A machine with stream 1 open and its response head sent.
    static func responding() -> HTTP2ConnectionMachine {
        var machine = Feeding.started()
        var client = HTTP2TestClient()
        client.get(1)
        _ = machine.receive(client.take(), now: 0)
        _ = machine.sendHeaders(stream: 1, status: 200, fields: [], endStream: false)
        return machine
    }

    static func data(_ text: String) -> HTTP2Frame {
        .data(stream: 1, payload: Array(text.utf8), endStream: false, paddingLength: nil)
    }

    @Test func successiveEvents_eachWriteTheirOwnFrameOnly_whenTheShellLetsGoOfEachCallsActions() {
        var machine = Self.responding()
        for event in ["data: 1\n\n", "data: 22\n\n", "data: 333\n\n", "data: 1\n\n"] {
            let result = machine.sendData(stream: 1, bytes: Array(event.utf8), endStream: false)
            #expect(result.accepted == event.utf8.count)
            #expect(HTTP2ConnectionOutcome(result.actions).frames == [Self.data(event)])
        }
    }

    @Test func actionsStillHeldByTheShell_keepTheirBytes_whileLaterCallsWrite() {
        var machine = Self.responding()
        let first = machine.sendData(stream: 1, bytes: Array("data: first\n\n".utf8), endStream: false).actions
        let second = machine.sendData(stream: 1, bytes: Array("data: second\n\n".utf8), endStream: false).actions
        let third = machine.sendData(stream: 1, bytes: Array("data: third\n\n".utf8), endStream: false).actions
        #expect(HTTP2ConnectionOutcome(first).frames == [Self.data("data: first\n\n")])
        #expect(HTTP2ConnectionOutcome(second).frames == [Self.data("data: second\n\n")])
        #expect(HTTP2ConnectionOutcome(third).frames == [Self.data("data: third\n\n")])
    }

    @Test func aCallThatWritesNothing_returnsNoActions_afterOneThatWrote() {
        var machine = Self.responding()
        _ = machine.sendData(stream: 1, bytes: Array("data: 1\n\n".utf8), endStream: false)
        #expect(machine.sendData(stream: 1, bytes: [], endStream: false).actions.isEmpty)
        #expect(machine.bodyConsumed(stream: 1, count: 10).isEmpty)
        let next = machine.sendData(stream: 1, bytes: Array("data: 2\n\n".utf8), endStream: false)
        #expect(HTTP2ConnectionOutcome(next.actions).frames == [Self.data("data: 2\n\n")])
    }

    @Test func aCopyOfTheMachine_writesItsOwnFrames_notTheOriginals() {
        var machine = Self.responding()
        _ = machine.sendData(stream: 1, bytes: Array("data: 1\n\n".utf8), endStream: false)
        var copy = machine
        let original = machine.sendData(stream: 1, bytes: Array("data: original\n\n".utf8), endStream: false).actions
        let copied = copy.sendData(stream: 1, bytes: Array("data: copy\n\n".utf8), endStream: false).actions
        #expect(HTTP2ConnectionOutcome(original).frames == [Self.data("data: original\n\n")])
        #expect(HTTP2ConnectionOutcome(copied).frames == [Self.data("data: copy\n\n")])
    }

    @Test func aWriteOverTheReusedCapacity_isNotKeptByTheMachine() {
        var machine = Self.responding()
        let big = [UInt8](repeating: 0x61, count: 40_000)
        let result = machine.sendData(stream: 1, bytes: big, endStream: false)
        #expect(result.accepted == big.count)
        #expect(machine.handedOutOutput.capacity <= HTTP2ConnectionMachine.reusedOutputCapacity)
        #expect(machine.output.capacity <= HTTP2ConnectionMachine.reusedOutputCapacity)
        #expect(machine.handedOutActions.isEmpty)
        let payload = HTTP2ConnectionOutcome(result.actions).frames.reduce(into: [UInt8]()) { bytes, frame in
            if case .data(1, let chunk, false, nil) = frame { bytes += chunk }
        }
        #expect(payload == big)
    }
}
