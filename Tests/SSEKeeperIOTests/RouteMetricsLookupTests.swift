import Testing

@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `EventLoop.routeMetrics(_:)` finds a route's box by the route object; it must give what `metrics.route(prefix)`
/// gives, for routes of a reloaded configuration (new objects, same prefixes) and past the entries it keeps.
@Suite struct RouteMetricsLookupTests {
    @Test func theBoxIsTheLabelsBox_forTheSameRoute_aReloadedOne_andManyRoutes() {
        let loop = EventLoop(label: "test.route-metrics")
        loop.queue.sync {
            let settings = StreamSettings()
            let first = Route(prefix: "/a", upstreamName: "u", settings: settings)
            let box = loop.routeMetrics(first)
            #expect(box === loop.metrics.route("/a"))
            #expect(loop.routeMetrics(first) === box)
            let reloaded = Route(prefix: "/a", upstreamName: "u", settings: settings)
            #expect(loop.routeMetrics(reloaded) === box, "counters survive a reload that keeps the prefix")
            var routes: [Route] = []
            for index in 0..<40 {
                let route = Route(prefix: "/r\(index)", upstreamName: "u", settings: settings)
                routes.append(route)
                #expect(loop.routeMetrics(route) === loop.metrics.route("/r\(index)"))
            }
            for (index, route) in routes.enumerated() {
                #expect(loop.routeMetrics(route) === loop.metrics.route("/r\(index)"), "after the entries were dropped")
            }
            #expect(loop.routeMetrics(first) === box)
        }
    }
}
