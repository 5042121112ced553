import Dispatch
import Testing
@testable import SSEKeeperIO

/// `EventLoop.now()` reads `CLOCK_MONOTONIC` itself rather than through `DispatchTime.now()`; with `.dispatchSource`
/// waiting the loop's deadlines become Dispatch timer deadlines (`DispatchTime(uptimeNanoseconds:)`), so the two
/// must be one clock.
struct EventLoopClockTests {
    @Test func now_readsTheClockDispatchsTimersUse() {
        for _ in 0..<1_000 {
            let before = DispatchTime.now().uptimeNanoseconds
            let now = EventLoop.now()
            let after = DispatchTime.now().uptimeNanoseconds
            #expect(before <= now && now <= after, "Dispatch read \(before) and \(after) around the loop's \(now)")
        }
    }
}
