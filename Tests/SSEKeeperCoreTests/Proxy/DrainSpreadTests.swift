import Testing
@testable import SSEKeeperCore

/// `drain_spread`: each stream's end in [0, spread) and its `retry:` in [retry/2, retry × 3/2), from numbers the
/// caller draws; no spread means every stream ends at once with exactly `drain_retry`.
struct DrainSpreadTests {
    static let spread = DrainSpread(spread: .seconds(2), retry: .seconds(1))

    @Test func theDrawsPlaceTheEndInTheWindow_andTheRetryAroundDrainRetry() {
        #expect(Self.spread.ending(endJitter: 0, retryJitter: 0) == .init(delayNanos: 0, retryMilliseconds: 500))
        #expect(Self.spread.ending(endJitter: 0.5, retryJitter: 0.5) == .init(delayNanos: 1_000_000_000, retryMilliseconds: 1_000))
        #expect(Self.spread.ending(endJitter: 0.25, retryJitter: 0.75) == .init(delayNanos: 500_000_000, retryMilliseconds: 1_250))
        let last = Self.spread.ending(endJitter: 1.0.nextDown, retryJitter: 1.0.nextDown)
        #expect(last.delayNanos < 2_000_000_000 && last.delayNanos > 1_999_000_000)
        #expect(last.retryMilliseconds == 1_499)
    }

    @Test func drawsOutsideTheUnitInterval_areClamped_soTheEndStaysBeforeTheSpreadEnds() {
        #expect(Self.spread.ending(endJitter: -3, retryJitter: -1) == .init(delayNanos: 0, retryMilliseconds: 500))
        let high = Self.spread.ending(endJitter: 7, retryJitter: 2)
        #expect(high.delayNanos == 1_999_999_999)
        #expect(high.retryMilliseconds == 1_499)
        #expect(Self.spread.ending(endJitter: .nan, retryJitter: .nan) == .init(delayNanos: 0, retryMilliseconds: 500))
    }

    @Test func noSpread_endsEveryStreamAtOnce_withExactlyDrainRetry() {
        let off = DrainSpread(spread: .zero, retry: .milliseconds(750))
        for jitter in [0.0, 0.3, 0.999] {
            #expect(off.ending(endJitter: jitter, retryJitter: jitter) == .init(delayNanos: 0, retryMilliseconds: 750))
        }
    }

    @Test func uniformDraws_fillTheWindowEvenly() {
        var generator = SystemRandomNumberGenerator()
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<10_000 {
            let ending = Self.spread.ending(endJitter: .random(in: 0..<1, using: &generator), retryJitter: 0.5)
            buckets[Int(ending.delayNanos / 200_000_000)] += 1
        }
        #expect(buckets.allSatisfy { $0 > 800 && $0 < 1_200 }, "\(buckets)")
    }
}
