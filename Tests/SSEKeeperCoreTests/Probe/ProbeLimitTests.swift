import Testing
@testable import SSEKeeperCore

/// Telling an idle timeout from a limit on a request's total time: the rule (`ProbeLimit`) and the plan's
/// check stream, on the simulated paths of `ProbePlanTests`.
struct ProbeLimitTests {
    static let settings = ProbePlanSettings(maxSilence: .seconds(900))
    static func judge(_ cuts: [(age: Double, quiet: Double)]) -> ProbeLimit {
        ProbeLimit.judge(cuts.map { ProbeLimit.Cut(age: .milliseconds(Int64($0.age * 1000)), quiet: .milliseconds(Int64($0.quiet * 1000))) },
                         tolerance: settings.tolerance(high:))
    }

    // MARK: the rule

    @Test func equalQuietTimes_atDifferentAges_areAnIdleTimeout() {
        #expect(Self.judge([(60.1, 60.0), (90.2, 60.1)]) == .idle)
    }

    @Test func equalAges_afterDifferentQuietTimes_areALifetimeLimit_ofTheYoungestCut() {
        #expect(Self.judge([(30.2, 30.1), (30.0, 15.0)]) == .lifetime(.seconds(30)))
        #expect(Self.judge([(3.0, 2.9), (3.1, 0.05)]) == .lifetime(.seconds(3)), "a cut while busy: no quiet at all")
    }

    @Test func timings_agreeWithinTenPercent_orAQuarterSecond() {
        #expect(Self.judge([(60, 60), (90, 65.9)]) == .idle, "65.9 is within 10 % of 60..65.9")
        #expect(Self.judge([(60, 60), (90, 67)]) == .undecided, "67 is not: both differ")
        #expect(Self.judge([(2.5, 2.5), (3.75, 2.74)]) == .idle, "within 250 ms below 2.5 s")
        #expect(Self.judge([(2.5, 2.5), (2.74, 1.25)]) == .lifetime(.milliseconds(2500)))
    }

    @Test func oneCut_orCutsThatAgreeOnBoth_cannotTell() {
        #expect(Self.judge([(60, 60)]) == .undecided)
        #expect(Self.judge([(60, 60), (60.1, 60.1)]) == .undecided)
        #expect(Self.judge([]) == .undecided)
    }

    // MARK: the plan

    @Test(arguments: [Duration.milliseconds(2500), .seconds(3), .seconds(15), .seconds(60), .seconds(300)])
    func aCutAtAFixedAge_isReportedAsALifetimeLimit_withItsAge(limit: Duration) throws {
        let run = PlanSimulation(.lifetimeFin(limit), settings: Self.settings)
        let outcome = try #require(run.outcome)
        #expect(outcome.lifetimeLimit == limit)
        #expect(outcome.cutBy == .fin && outcome.idleTimeout == nil && outcome.bracketHigh == nil)
        #expect(outcome.bracketLow < limit, "the longest silence that survived")
        #expect(run.notes.contains { if case .checkingLifetime = $0 { true } else { false } })
        #expect(run.elapsed < limit * 2 + .milliseconds(100), "the check is cut at the same age: \(run.elapsed)")
    }

    @Test func aBufferingProxysTotalTimeout_isALifetimeLimit_thoughNothingArrivesBeforeIt() throws {
        let outcome = try #require(PlanSimulation(.lifetime504(.seconds(30)), settings: Self.settings).outcome)
        #expect(outcome.lifetimeLimit == .seconds(30) && outcome.cutBy == .httpError && outcome.httpStatus == 504)
        let idle = try #require(PlanSimulation(.buffering504(.seconds(30)), settings: Self.settings).outcome)
        #expect(idle.lifetimeLimit == nil && idle.idleTimeout == .milliseconds(30_020))
    }

    @Test(arguments: [Duration.milliseconds(-200), .milliseconds(150), .milliseconds(240)])
    func noisyCuts_withinTheTolerance_stillTellTheKind(noise: Duration) throws {
        // The first cut comes on time, the check's `noise` late (or early).
        let jitter: (Int) -> Duration = { $0 == 14 ? noise : .zero }
        let idle = try #require(PlanSimulation(.rst(.seconds(2)), settings: Self.settings, jitter: jitter).outcome)
        #expect(idle.cutBy == .rst && idle.idleTimeout == .seconds(2) && idle.lifetimeLimit == nil)
        let lifetime = try #require(PlanSimulation(.lifetimeFin(.seconds(20)), settings: Self.settings, jitter: jitter).outcome)
        #expect(lifetime.lifetimeLimit == .seconds(20) + min(noise, .zero))
    }

    @Test func aServerThatIgnoresBusy_leavesTheCutAnIdleTimeout_andSaysSo() throws {
        let run = PlanSimulation(.lifetimeFin(.seconds(3)), settings: Self.settings, honoursBusy: false)
        let outcome = try #require(run.outcome)
        #expect(outcome.cutBy == .fin && outcome.lifetimeLimit == nil)
        #expect(outcome.idleTimeout == .milliseconds(2980), "quiet since probe-start, as before")
        #expect(run.notes.contains(.lifetimeCheckUnsupported))
    }

    @Test func aCheckStreamThatSurvives_leavesTheFirstCutAnIdleTimeout() throws {
        var plan = ProbePlan(settings: Self.settings, url: "u")
        _ = plan.start(at: .zero)
        _ = plan.streamStarted(0, silence: .seconds(1), at: .milliseconds(10))
        _ = plan.streamSurvived(0, at: .milliseconds(1010))
        let actions = plan.streamCut(3, by: .fin, lastActivity: .milliseconds(10), at: .seconds(8))
        guard case .open(let check, let silence, let busy) = actions.dropLast().last else {
            Issue.record("no check stream: \(actions)")
            return
        }
        #expect(busy == .milliseconds(3995) && silence == .milliseconds(15_980))
        #expect(plan.openStreams == 1, "the ladder's other streams are closed")
        _ = plan.streamStarted(check, silence: silence, busy: busy, at: .milliseconds(8010))
        #expect(plan.streamSurvived(check, at: .seconds(28)).last
            == .finish(ProbeOutcome(cutBy: .fin, idleTimeout: .milliseconds(7990), bracketLow: .milliseconds(7990),
                                    bracketHigh: .milliseconds(7990))))
    }

    @Test func theAge_runsFromTheRequestSent_notFromTheOpen() throws {
        var plan = ProbePlan(settings: Self.settings, url: "u")
        _ = plan.start(at: .zero)
        _ = plan.streamStarted(0, silence: .seconds(1), at: .milliseconds(10))
        plan.requestSent(3, at: .milliseconds(900))
        let actions = plan.streamCut(3, by: .fin, lastActivity: .milliseconds(910), at: .milliseconds(10_900))
        #expect(actions.first == .note(.cut(busy: .zero, silence: .seconds(8), quiet: .milliseconds(9990), age: .seconds(10))))
    }
}
