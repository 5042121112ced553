import Testing

@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `max_connections` and `max_connections_per_ip` as `ProxyRuntime` counts them, without sockets: the per-host
/// counts keep a host that has no connection left at zero until a sweep, and must read true all along.
@Suite struct ProxyRuntimeAdmissionTests {
    static func runtime() throws -> ProxyRuntime {
        ProxyRuntime(context: try ProxyContext(config: Config(listens: [ListenAddress(host: "127.0.0.1", port: 0)]),
                                               logger: Logger()))
    }

    static func limits(perHost: Int) -> Limits {
        var limits = Limits()
        limits.maxConnectionsPerClient = perHost
        return limits
    }

    @Test func perHostCounts_stayTrue_whileHostsComeAndGo_andAcrossTheSweep() throws {
        let runtime = try Self.runtime()
        let limits = Self.limits(perHost: 2)
        #expect(runtime.admit(host: "a", limits: limits) == nil)
        #expect(runtime.admit(host: "a", limits: limits) == nil)
        #expect(runtime.admit(host: "a", limits: limits)?.reason == .maxConnectionsPerClient)
        runtime.release(host: "a")
        #expect(runtime.admit(host: "a", limits: limits) == nil, "a released slot is free again")
        #expect(runtime.admit(host: "a", limits: limits)?.reason == .maxConnectionsPerClient)
        runtime.release(host: "a")
        runtime.release(host: "a")
        // More hosts come and go than are kept at zero: the sweep runs, and "a" (at zero) goes with it.
        for index in 0...(ProxyRuntime.maxIdleHosts + 10) {
            #expect(runtime.admit(host: "h\(index)", limits: limits) == nil)
            runtime.release(host: "h\(index)")
        }
        #expect(runtime.openConnections.load(ordering: .relaxed) == 0)
        // A host still connected through the sweep keeps its count.
        #expect(runtime.admit(host: "b", limits: limits) == nil)
        for index in 0...(ProxyRuntime.maxIdleHosts + 10) {
            #expect(runtime.admit(host: "k\(index)", limits: limits) == nil)
            runtime.release(host: "k\(index)")
        }
        #expect(runtime.admit(host: "b", limits: limits) == nil)
        #expect(runtime.admit(host: "b", limits: limits)?.reason == .maxConnectionsPerClient, "b's first connection still counts")
        #expect(runtime.admit(host: "a", limits: limits) == nil)
        #expect(runtime.admit(host: "a", limits: limits) == nil)
        #expect(runtime.admit(host: "a", limits: limits)?.reason == .maxConnectionsPerClient)
        #expect(runtime.openConnections.load(ordering: .relaxed) == 4)
    }

    @Test func aReleaseWithoutAnAdmission_doesNotLiftTheLimit() throws {
        let runtime = try Self.runtime()
        let limits = Self.limits(perHost: 1)
        #expect(runtime.admit(host: "a", limits: limits) == nil)
        runtime.release(host: "a")
        runtime.release(host: "a")
        runtime.release(host: "never admitted")
        #expect(runtime.admit(host: "a", limits: limits) == nil)
        #expect(runtime.admit(host: "a", limits: limits)?.reason == .maxConnectionsPerClient)
    }
}
