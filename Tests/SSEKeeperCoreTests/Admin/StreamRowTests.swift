import Foundation
import Testing
@testable import SSEKeeperCore

/// The `/streams` document: its exact text, its order, and the client's send progress (issue 14).
struct StreamRowTests {
    static func row(client: String, ageNanos: UInt64, waiting: Int?, lastAcceptedNanos: UInt64?) -> StreamRow {
        StreamRow(route: "/", path: "/events", client: client, upstream: "127.0.0.1:9000", ageNanos: ageNanos,
                  bytesIn: 812, bytesOut: 901, lastActivityNanos: 3_200_000_000, heartbeats: 1, heartbeatsSkipped: 0,
                  clientBytesWaiting: waiting, clientLastAcceptedNanos: lastAcceptedNanos)
    }

    @Test func aRow_isWrittenExactly_withTheClientsWaitingBytesAndLastAcceptance() {
        let text = StreamRow.json([Self.row(client: "127.0.0.1:50312", ageNanos: 12_004_000_000, waiting: 65_536,
                                            lastAcceptedNanos: 7_250_999_999)])
        #expect(text == #"[{"route":"/","path":"/events","client":"127.0.0.1:50312","upstream":"127.0.0.1:9000","#
            + #""age_s":12.004,"bytes_in":812,"bytes_out":901,"last_activity_s":3.2,"heartbeats":1,"#
            + #""heartbeats_skipped":0,"client_bytes_waiting":65536,"client_last_accepted_s":7.25,"#
            + #""detached_s":null,"replay_buffer_bytes":null}]"# + "\n",
            "seconds are truncated to the millisecond, like age_s")
    }

    @Test func nothingWaiting_isZeroBytes_andANullLastAcceptance_andAnUnknownKernelIsNullToo() throws {
        let idle = Self.row(client: "127.0.0.1:1", ageNanos: 2, waiting: 0, lastAcceptedNanos: nil)
        let unknown = Self.row(client: "127.0.0.1:2", ageNanos: 1, waiting: nil, lastAcceptedNanos: nil)
        let text = StreamRow.json([unknown, idle])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["client"] as? String } == ["127.0.0.1:1", "127.0.0.1:2"], "oldest first")
        #expect(rows[0]["client_bytes_waiting"] as? Int == 0)
        #expect(rows[0]["client_last_accepted_s"] is NSNull)
        #expect(rows[1]["client_bytes_waiting"] is NSNull, "the kernel could not tell")
        #expect(rows[1]["client_last_accepted_s"] is NSNull)
        #expect(rows.allSatisfy { $0.count == 14 }, "every key present in every row")
    }

    @Test func aDetachedStream_showsHowLongItWasWithoutAClient_itsReplayBuffer_andNoClientFigures() {
        var detached = Self.row(client: "127.0.0.1:50312", ageNanos: 12_004_000_000, waiting: 65_536,
                                lastAcceptedNanos: 7_250_999_999)
        detached.detachedNanos = 2_500_400_000
        detached.replayBufferBytes = 4_096
        #expect(StreamRow.json([detached]).hasSuffix(#""heartbeats_skipped":0,"client_bytes_waiting":null,"#
            + #""client_last_accepted_s":null,"detached_s":2.5,"replay_buffer_bytes":4096}]"# + "\n"),
            "a detached stream has no client to measure, whatever the caller left in the row")
    }

    @Test func anAttachedRideThroughStream_hasANullDetachedTime_andItsBufferBytes() throws {
        let row = StreamRow(route: "/", path: "/events", client: "127.0.0.1:1", upstream: nil, ageNanos: 1, bytesIn: 0,
                            bytesOut: 0, lastActivityNanos: 0, heartbeats: 0, heartbeatsSkipped: 0,
                            clientBytesWaiting: 0, replayBufferBytes: 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(StreamRow.json([row]).utf8)) as? [[String: Any]])
        #expect(rows[0]["detached_s"] is NSNull)
        #expect(rows[0]["replay_buffer_bytes"] as? Int == 0, "an empty buffer is 0, not null")
        #expect(rows[0]["client_bytes_waiting"] as? Int == 0)
    }

    @Test func noStreams_isAnEmptyArray() {
        #expect(StreamRow.json([]) == "[]\n")
    }
}
