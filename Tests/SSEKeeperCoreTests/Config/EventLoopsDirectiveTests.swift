import Testing
@testable import SSEKeeperCore

/// `event_loops auto|N;` (issue 16): how many event loops serve connections.
struct EventLoopsDirectiveTests {
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    @Test func theDefault_isAuto_oneLoopPerAvailableCPU() throws {
        let config = try ConfigParser.parse(Self.base, fileName: "t")
        #expect(config.limits.eventLoops == .auto)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 16) == 16)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 0) == 1, "an unreadable mask still runs one loop")
        #expect(EventLoopCount.auto.resolved(availableCPUs: 1000) == EventLoopCount.maximum)
    }

    @Test func aCount_isTakenAsIs_whateverTheCPUs() throws {
        let config = try ConfigParser.parse(Self.base + "event_loops 3;", fileName: "t")
        #expect(config.limits.eventLoops == .count(3))
        #expect(config.limits.eventLoops.resolved(availableCPUs: 16) == 3)
        #expect(try ConfigParser.parse(Self.base + "event_loops auto;", fileName: "t").limits.eventLoops == .auto)
    }

    @Test(arguments: ["0", "257", "-1", "two", "1.5"])
    func aBadValue_isAnErrorAtItsPosition(value: String) {
        let errors = parseErrors(Self.base + "event_loops \(value);")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("test.conf:4:13: ") == true, "\(errors)")
    }

    @Test func itStandsAtTopLevelOnly() {
        let errors = parseErrors("listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; event_loops 2; }\n")
        #expect(errors.count == 1)
    }
}
