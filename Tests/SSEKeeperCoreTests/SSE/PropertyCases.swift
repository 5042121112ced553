import Foundation
import Testing

/// The seeded cases of a property test: case `i` uses seed `base + i`, and `SSE_PROPERTY_SEED` / `SSE_PROPERTY_CASES`
/// override the suite's base seed and case count, so a failing case replays from its seed alone:
/// `SSE_PROPERTY_SEED=<seed> SSE_PROPERTY_CASES=1 swift test --filter <Suite>`.
struct PropertyCases {
    /// A failing case: its seed and what went wrong.
    struct Failure: Error, CustomStringConvertible {
        var seed: UInt64
        var message: String
        var description: String { "seed \(seed): \(message)" }
    }

    /// The first seed.
    let base: UInt64
    /// How many cases run.
    let count: Int

    /// The suite's defaults, unless the environment overrides them.
    init(baseSeed: UInt64, defaultCount: Int) {
        let environment = ProcessInfo.processInfo.environment
        base = environment["SSE_PROPERTY_SEED"].flatMap { UInt64($0) } ?? baseSeed
        count = environment["SSE_PROPERTY_CASES"].flatMap { Int($0) } ?? defaultCount
    }

    /// Runs `body` for every seed in order; the first `Failure` is recorded as an issue and stops the run.
    /// Returns how many cases passed.
    @discardableResult
    func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: (UInt64) throws -> Void) throws -> Int {
        for index in 0..<count {
            do {
                try body(base &+ UInt64(index))
            } catch let failure as Failure {
                Issue.record("\(failure)", sourceLocation: sourceLocation)
                return index
            }
        }
        return count
    }
}
