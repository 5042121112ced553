import Testing
@testable import SSEKeeperCore

struct MaxBodySizeTests {
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    @Test func maxBodySize_isOffByDefault_andTakesASizeOrOff() throws {
        #expect(try ConfigParser.parse(Self.base, fileName: "t").limits.maxBodyBytes == nil)
        #expect(try ConfigParser.parse(Self.base + "max_body_size 10m;", fileName: "t").limits.maxBodyBytes == 10 * 1024 * 1024)
        #expect(try ConfigParser.parse(Self.base + "max_body_size off;", fileName: "t").limits.maxBodyBytes == nil)
    }

    @Test func maxBodySize_rejectsBadValues_withLineAndColumn() {
        #expect(throws: ConfigErrors.self) { try ConfigParser.parse(Self.base + "max_body_size 0;", fileName: "t") }
        do {
            _ = try ConfigParser.parse(Self.base + "max_body_size lots;", fileName: "t")
            Issue.record("accepted max_body_size lots")
        } catch {
            #expect(error.errors.map(\.description) == ["t:4:15: invalid size \"lots\" (use 512, 16k, 1m)"])
        }
    }

    @Test func maxBodySize_isTopLevelOnly() {
        #expect(throws: ConfigErrors.self) {
            try ConfigParser.parse("listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; max_body_size 1k; }\n", fileName: "t")
        }
    }

}

struct HeartbeatIntervalMinimumTests {
    /// Found by the config fuzz target: `heartbeat_fraction 0.00000000001` with the default 60s gave 0.6 ns.
    @Test func aRouteWhoseHeartbeatIntervalIsBelow10ms_isAnError_atItsPrefix() {
        let text = "listen 80;\nheartbeat_fraction 0.00000000001;\nupstream u { server h:1; }\nroute / { upstream u; }\n"
        do {
            _ = try ConfigParser.parse(text, fileName: "t")
            Issue.record("accepted a sub-nanosecond heartbeat interval")
        } catch {
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.description.hasPrefix("t:4:7: route \"/\": idle_timeout x heartbeat_fraction gives a heartbeat every") == true, "\(error)")
        }
    }

    /// One floor for the config and the shell: the check must use `HeartbeatSchedule.minimumInterval`.
    @Test func theConfigFloor_isHeartbeatScheduleMinimumInterval() throws {
        let floor = HeartbeatSchedule.minimumInterval
        let idle = TimeAmount(nanoseconds: floor.nanoseconds * 2).formatted(.config)
        let route = "upstream u { server h:1; }\nroute / { upstream u; idle_timeout \(idle); "
        let atFloor = try ConfigParser.parse("listen 80;\n" + route + "heartbeat_fraction 0.5; }\n", fileName: "t")
        #expect(atFloor.routes.first?.settings.heartbeatInterval == floor.duration)
        do {
            _ = try ConfigParser.parse("listen 80;\n" + route + "heartbeat_fraction 0.45; }\n", fileName: "t")
            Issue.record("accepted a heartbeat interval below \(floor.formatted(.config))")
        } catch {
            #expect(error.errors.first?.description.hasSuffix("below the minimum of \(floor.formatted(.config))") == true, "\(error)")
        }
    }

    @Test func aRouteOverride_canBringTheIntervalBackAboveTheMinimum() throws {
        let text = "listen 80;\nidle_timeout 10ms;\nupstream u { server h:1; }\nroute / { upstream u; idle_timeout 1s; heartbeat_fraction 0.5; }\n"
        let config = try ConfigParser.parse(text, fileName: "t")
        #expect(config.routes.first?.settings.heartbeatInterval == .milliseconds(500))
    }
}
