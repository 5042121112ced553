import Testing
@testable import SSEKeeperCore

struct HistogramTests {
    @Test func observe_putsAValueInTheFirstBucketWhoseBoundItDoesNotExceed() {
        var histogram = Histogram(boundsNanos: [10, 20, 30])
        for value: UInt64 in [0, 10, 11, 20, 30, 31, 1_000] { histogram.observe(nanos: value) }
        #expect(histogram.bucketCounts == [2, 2, 1, 2])
        #expect(histogram.cumulativeCounts == [2, 4, 5, 7])
        #expect(histogram.count == 7)
        #expect(histogram.sumNanos == 1_102)
    }

    @Test func boundsInSeconds_becomeWholeNanoseconds() {
        let histogram = Histogram(boundsSeconds: [0.00001, 0.5, 2])
        #expect(histogram.boundsNanos == [10_000, 500_000_000, 2_000_000_000])
    }

    @Test func merge_addsBucketsSumsAndCounts() {
        var a = Histogram(boundsNanos: [10, 20])
        var b = Histogram(boundsNanos: [10, 20])
        a.observe(nanos: 5)
        b.observe(nanos: 15)
        b.observe(nanos: 25)
        a.merge(b)
        #expect(a.bucketCounts == [1, 1, 1])
        #expect(a.sumNanos == 45)
        #expect(a.count == 3)
    }

    @Test func detachedCopy_isEqual_andIndependentOfTheOriginal() {
        var live = Histogram(boundsNanos: [10])
        live.observe(nanos: 3)
        let copy = live.detachedCopy()
        #expect(copy == live)
        live.observe(nanos: 30)
        #expect(copy.count == 1)
        #expect(copy.bucketCounts == [1, 0])
        #expect(live.bucketCounts == [1, 1])
    }

    @Test func everyShippedBucketSet_ascendsStrictly_andFitsTheScanLimit() {
        for bounds in [HistogramBuckets.streamDuration, HistogramBuckets.upstreamQuiet, HistogramBuckets.quietCloseAge, HistogramBuckets.teardown] {
            let histogram = Histogram(boundsSeconds: bounds)
            #expect(histogram.boundsNanos.count <= Histogram.maxBucketCount)
            #expect(zip(histogram.boundsNanos, histogram.boundsNanos.dropFirst()).allSatisfy { $0 < $1 })
        }
    }
}
