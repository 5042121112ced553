import Testing

@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `EventLoop.context(of:)`: a loop's lock-free view of its runtime's current context.
@Suite struct LoopContextTests {
    static func context() throws -> ProxyContext {
        try ProxyContext(config: Config(listens: [ListenAddress(host: "127.0.0.1", port: 0)]), logger: Logger())
    }

    @Test func aLoop_seesTheContextInPlace_andEachReplacement_atItsNextRead() throws {
        let loop = EventLoop(label: "test.loop-context")
        let first = try Self.context()
        let runtime = ProxyRuntime(context: first)
        loop.queue.sync {
            #expect(loop.context(of: runtime) === first)
            #expect(loop.context(of: runtime) === first)
        }
        for _ in 0..<3 {
            let next = try Self.context()
            runtime.replace(with: next)
            loop.queue.sync { #expect(loop.context(of: runtime) === next) }
        }
    }

    @Test func twoRuntimesOnOneLoop_eachGetTheirOwn() throws {
        let loop = EventLoop(label: "test.loop-context.two")
        let (a, b) = (try Self.context(), try Self.context())
        let (runtimeA, runtimeB) = (ProxyRuntime(context: a), ProxyRuntime(context: b))
        loop.queue.sync {
            // Both at generation 0: the runtime, not the generation alone, tells them apart.
            #expect(loop.context(of: runtimeA) === a)
            #expect(loop.context(of: runtimeB) === b)
            #expect(loop.context(of: runtimeA) === a)
        }
    }
}
