import Foundation
import Testing
@testable import SSEKeeperCore

struct AccessLogRecordJSONTests {
    static let record = AccessLogRecord(
        client: "127.0.0.1:5000", method: "GET", path: "/a b\"\n\\", status: 200, bytesSent: 812,
        durationNanos: 12_004_900_000, heartbeatsSent: 3, heartbeatsSkipped: 1, end: .clientClosed,
        upstream: "127.0.0.1:9000", reason: "client closed the connection", longestUpstreamGapNanos: 9_800_000_000,
        route: "/")

    @Test func aRecord_isOneJSONObject_withEveryField() throws {
        let text = Self.record.json(time: "2026-11-22T03:34:51.567Z")
        #expect(text == #"{"time":"2026-11-22T03:34:51.567Z","client":"127.0.0.1:5000","protocol":null,"method":"GET","path":"/a b\"\n\\","status":200,"bytes":812,"duration_s":12.004,"heartbeats":3,"skipped":1,"end":"client_closed","route":"/","upstream":"127.0.0.1:9000","upstream_quiet_max_s":9.8,"resumes":null,"reason":"client closed the connection"}"#)
        #expect(!text.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["path"] as? String == "/a b\"\n\\")
        #expect(object["duration_s"] as? Double == 12.004)
        #expect(object["status"] as? Int == 200)
    }

    @Test func missingFields_areNull_notAbsent() throws {
        let record = AccessLogRecord(client: "c", method: "-", path: "-", status: 400, bytesSent: 90, durationNanos: 0,
                                     heartbeatsSent: 0, heartbeatsSkipped: 0, end: .rejected, upstream: nil, reason: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record.json(time: "t").utf8)) as? [String: Any])
        #expect(object.count == 16)
        for key in ["route", "upstream", "upstream_quiet_max_s", "resumes", "reason"] {
            #expect(object[key] is NSNull, "\(key)")
        }
        #expect(object["duration_s"] as? Int == 0)
    }

    @Test func theTextLine_namesTheRoute_afterTheEnd() {
        #expect(Self.record.line.contains(" end=client_closed route=/ upstream_quiet_max=9.800s upstream=127.0.0.1:9000 "))
    }
}
