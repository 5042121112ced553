import Testing
@testable import SSEKeeperCore

/// `Route` is an immutable class (streams share it instead of copying its settings): it still compares by value,
/// and changing one means making another.
@Suite struct RouteTests {
    @Test func routes_withTheSameParts_areEqual_andOneDifferentPart_makesThemUnequal() {
        let route = Route(prefix: "/a", upstreamName: "pool", settings: StreamSettings())
        #expect(route == Route(prefix: "/a", upstreamName: "pool", settings: StreamSettings()))
        #expect(route != Route(prefix: "/b", upstreamName: "pool", settings: StreamSettings()))
        #expect(route != Route(prefix: "/a", upstreamName: "other", settings: StreamSettings()))
        #expect(route != Route(prefix: "/a", upstreamName: "pool", settings: StreamSettings(idleTimeout: .seconds(30))))
    }

    @Test func with_changesOnlyTheNewRoute() {
        let route = Route(prefix: "/a", upstreamName: "pool", settings: StreamSettings())
        let changed = route.with { $0.heartbeatComment = "ping" }
        #expect(changed.settings.heartbeatComment == "ping")
        #expect(changed.prefix == "/a" && changed.upstreamName == "pool")
        #expect(route.settings.heartbeatComment == "heartbeat")
        #expect(changed != route)
    }

    @Test func heartbeatIntervalNanos_isTheSettingsInterval_andFollowsAChange() {
        let route = Route(prefix: "/a", upstreamName: "pool",
                          settings: StreamSettings(idleTimeout: .seconds(60), heartbeatFraction: 0.25))
        #expect(route.heartbeatIntervalNanos == 15_000_000_000)
        #expect(route.heartbeatIntervalNanos == TimeAmount(route.settings.heartbeatInterval).nanoseconds)
        let changed = route.with { $0.idleTimeout = .seconds(10) }
        #expect(changed.heartbeatIntervalNanos == 2_500_000_000)
        #expect(route.heartbeatIntervalNanos == 15_000_000_000)
    }

    @Test func configs_compareTheirRoutesByValue() throws {
        let text = "listen 8080;\nupstream u { server 127.0.0.1:9000; }\nroute / { upstream u; }\n"
        let first = try ConfigParser.parse(text, fileName: "test.conf")
        let second = try ConfigParser.parse(text, fileName: "test.conf")
        #expect(first.routes[0] !== second.routes[0])
        #expect(first == second)
    }
}
