import Testing
@testable import SSEKeeperCore

/// The pool state machine, driven by a manual clock (monotonic nanoseconds passed in).
struct UpstreamPoolTests {
    static let second: UInt64 = 1_000_000_000

    static func server(_ port: UInt16, weight: Int = 1, backup: Bool = false, maxFails: Int = 3,
                       failTimeout: Duration = .seconds(10)) -> UpstreamServer {
        UpstreamServer(address: ServerAddress(host: "10.0.0.1", port: port), weight: weight, isBackup: backup,
                       maxFails: maxFails, failTimeout: failTimeout)
    }

    /// The first server of each of `count` attempt orders taken at `now`.
    static func picks(_ pool: inout UpstreamPool, count: Int, now: UInt64 = 1) -> [Int] {
        (0..<count).map { _ in pool.attemptOrder(now: now)[0] }
    }

    @Test func equalWeights_rotate_andEveryOrderHoldsEveryServerOnce() {
        var pool = UpstreamPool(servers: [Self.server(1), Self.server(2), Self.server(3)])
        var firsts: [Int] = []
        for _ in 0..<6 {
            let order = pool.attemptOrder(now: 1)
            #expect(order.sorted() == [0, 1, 2])
            firsts.append(order[0])
        }
        #expect(firsts == [0, 1, 2, 0, 1, 2])
    }

    @Test func weights5to1to1_give5to1to1_over1000Picks_withoutBursts() {
        var pool = UpstreamPool(servers: [Self.server(1, weight: 5), Self.server(2), Self.server(3)])
        let picks = Self.picks(&pool, count: 1000)
        // nginx's documented smooth sequence for 5:1:1.
        #expect(Array(picks.prefix(7)) == [0, 0, 1, 0, 2, 0, 0])
        let counts = [0, 1, 2].map { server in picks.filter { $0 == server }.count }
        // 142 full cycles of 7 (710:142:142) and the first 6 picks of the next (4:1:1).
        #expect(counts == [714, 143, 143])
        // No burst: plain weighted round-robin would give the heavy server its 5 picks in a row; the smooth one
        // interleaves them (at most the 2 ending one cycle and the 2 starting the next).
        var run = 0
        var longest = 0
        for pick in picks {
            run = pick == 0 ? run + 1 : 0
            longest = max(longest, run)
        }
        #expect(longest == 4)
    }

    @Test func backups_areNeverPicked_whilePrimariesAreAvailable_butFollowThemInTheOrder() {
        var pool = UpstreamPool(servers: [Self.server(1), Self.server(2, backup: true), Self.server(3)])
        for _ in 0..<10 {
            let order = pool.attemptOrder(now: 1)
            #expect(order[0] != 1)
            #expect(order.last == 1, "the backup is the last resort for this request")
        }
    }

    @Test func backups_arePickedWeighted_whenEveryPrimaryIsDown() {
        var pool = UpstreamPool(servers: [
            Self.server(1, maxFails: 1), Self.server(2, weight: 2, backup: true), Self.server(3, backup: true),
        ])
        #expect(pool.noteFailure(server: 0, now: 5) != nil)
        let picks = Self.picks(&pool, count: 6, now: 6)
        #expect(picks.filter { $0 == 1 }.count == 4)
        #expect(picks.filter { $0 == 2 }.count == 2)
        #expect(pool.attemptOrder(now: 6).last == 0, "the primary that is down is still tried, last")
    }

    @Test func maxFailsInARow_marksDown_once_andTheServerIsSkippedForTheCoolDown() {
        var pool = UpstreamPool(servers: [Self.server(1, maxFails: 3, failTimeout: .seconds(10)), Self.server(2)])
        let start = 100 * Self.second
        #expect(pool.noteFailure(server: 0, now: start) == nil)
        #expect(pool.noteFailure(server: 0, now: start + 1) == nil)
        #expect(pool.noteFailure(server: 0, now: start + 2) == .markedDown(server: 0, failures: 3, coolDown: .seconds(10)))
        #expect(!pool.isAvailable(server: 0, now: start + 3))
        for _ in 0..<5 { #expect(pool.attemptOrder(now: start + 5 * Self.second) == [1, 0]) }
        // A last-resort attempt that fails again while down re-arms the cool-down without a new event.
        #expect(pool.noteFailure(server: 0, now: start + 6 * Self.second) == nil)
        #expect(!pool.isAvailable(server: 0, now: start + 15 * Self.second))
        #expect(pool.isAvailable(server: 0, now: start + 16 * Self.second))
    }

    @Test func aSuccess_resetsTheCount_soOnlyFailuresInARowCount() {
        var pool = UpstreamPool(servers: [Self.server(1, maxFails: 2)])
        #expect(pool.noteFailure(server: 0, now: 1) == nil)
        #expect(pool.noteSuccess(server: 0, now: 2) == nil, "never marked down: nothing to log")
        #expect(pool.noteFailure(server: 0, now: 3) == nil)
        #expect(pool.isAvailable(server: 0, now: 4))
        #expect(pool.noteFailure(server: 0, now: 5) == .markedDown(server: 0, failures: 2, coolDown: .seconds(10)))
    }

    @Test func afterTheCoolDown_theServerIsTriedAgain_andItsFirstSuccessIsReportedOnce() {
        var pool = UpstreamPool(servers: [Self.server(1, maxFails: 1, failTimeout: .seconds(2)), Self.server(2)])
        let start = 50 * Self.second
        _ = pool.noteFailure(server: 0, now: start)
        #expect(pool.attemptOrder(now: start + Self.second) == [1, 0])
        let later = start + 2 * Self.second
        #expect(pool.isAvailable(server: 0, now: later))
        #expect(pool.attemptOrder(now: later).contains(0))
        #expect(pool.noteSuccess(server: 0, now: later + 500_000_000) == .backUp(server: 0, downFor: .milliseconds(2500)))
        #expect(pool.noteSuccess(server: 0, now: later + Self.second) == nil)
    }

    @Test func oneFailureAfterTheCoolDown_marksItDownAgain_silently() {
        var pool = UpstreamPool(servers: [Self.server(1, maxFails: 3, failTimeout: .seconds(1))])
        for offset in 0..<3 { _ = pool.noteFailure(server: 0, now: UInt64(offset)) }
        let later = 2 * Self.second
        #expect(pool.noteFailure(server: 0, now: later) == nil, "already reported as down")
        #expect(!pool.isAvailable(server: 0, now: later + 1))
    }

    @Test func whenEveryServerIsDown_allAreStillTried_leastRecentlyFailedFirst() {
        var pool = UpstreamPool(servers: [
            Self.server(1, maxFails: 1), Self.server(2, maxFails: 1), Self.server(3, backup: true, maxFails: 1),
        ])
        _ = pool.noteFailure(server: 1, now: 10)
        _ = pool.noteFailure(server: 2, now: 20)
        _ = pool.noteFailure(server: 0, now: 30)
        #expect(pool.attemptOrder(now: 40) == [1, 2, 0])
    }

    @Test func maxFailsZero_neverMarksAServerDown() {
        var pool = UpstreamPool(servers: [Self.server(1, maxFails: 0)])
        for now in 1...100 { #expect(pool.noteFailure(server: 0, now: UInt64(now)) == nil) }
        #expect(pool.isAvailable(server: 0, now: 101))
    }

    @Test func aServerThatIsDown_doesNotTakeAWeightedTurn_andTheOthersKeepTheirShares() {
        var pool = UpstreamPool(servers: [Self.server(1, weight: 3, maxFails: 1), Self.server(2), Self.server(3)])
        _ = pool.noteFailure(server: 0, now: 1)
        let picks = Self.picks(&pool, count: 10, now: 2)
        #expect(picks.filter { $0 == 1 }.count == 5)
        #expect(picks.filter { $0 == 2 }.count == 5)
    }

    @Test func events_renderAsTheLogLines() {
        #expect(UpstreamPoolEvent.markedDown(server: 0, failures: 3, coolDown: .seconds(10))
            .message(upstream: "api", serverName: "10.0.0.5:9000")
            == "upstream api: server 10.0.0.5:9000 marked down for 10s after 3 failed connects")
        #expect(UpstreamPoolEvent.markedDown(server: 0, failures: 1, coolDown: .milliseconds(500))
            .message(upstream: "api", serverName: "b:1") == "upstream api: server b:1 marked down for 500ms after 1 failed connect")
        #expect(UpstreamPoolEvent.backUp(server: 0, downFor: .milliseconds(12_345))
            .message(upstream: "api", serverName: "b:1") == "upstream api: server b:1 is back up after 12.345s down")
    }
}
