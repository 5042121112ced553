import Testing
@testable import SSEKeeperCore

/// A path between the probe and the probe endpoint, simulated on a virtual clock: what it does to a stream
/// that stays silent.
enum SimulatedPath {
    /// Closes a stream after `T` of silence.
    case fin(Duration)
    /// Resets a stream after `T` of silence.
    case rst(Duration)
    /// Forgets a stream after `T` of silence: nothing arrives any more, nothing says so.
    case silentDrop(Duration)
    /// Buffers the response; answers 504 after `T` of silence (the whole response when it ends sooner).
    case buffering504(Duration)
    /// Cuts nothing; the server caps silences at `cap` when set.
    case none(cap: Duration?)
    /// Closes every stream `T` after its request was sent, busy or silent (a limit on a request's total time).
    case lifetimeFin(Duration)
    /// Buffers the response; answers 504 `T` after the request was sent (the whole response when it ends sooner).
    case lifetime504(Duration)
}

/// Runs a `ProbePlan` against a `SimulatedPath` with a fixed one-way latency; returns the final action, the
/// virtual time it came at, every note, and how many streams were opened.
struct PlanSimulation {
    var finalAction: ProbeAction?
    var elapsed: Duration = .zero
    var notes: [ProbeNote] = []
    var opened = 0

    private enum Happening { case started(Duration, busy: Duration?), ended, cut(ProbeCutKind, lastActivity: Duration), status(Int, lastActivity: Duration) }

    /// `jitter(id)` delays the cut of stream `id` (noise in the path's timer); `honoursBusy: false` is a server
    /// that ignores `busy` (an older ssekeeper).
    init(_ path: SimulatedPath, settings: ProbePlanSettings, latency: Duration = .milliseconds(20),
         honoursBusy: Bool = true, jitter: (Int) -> Duration = { _ in .zero }) {
        var plan = ProbePlan(settings: settings, url: "http://sim/probe")
        var queue: [(at: Duration, id: Int, what: Happening)] = []
        var now = Duration.zero
        var open: Set<Int> = []
        func carry(_ actions: [ProbeAction]) -> Bool {
            for action in actions {
                switch action {
                case .open(let id, let silence, let askedBusy):
                    opened += 1
                    open.insert(id)
                    let start = now + latency
                    let busy = honoursBusy ? askedBusy : .zero
                    let said: Duration? = busy > .zero ? busy : nil
                    let quietFrom = start + busy
                    let noise = jitter(id)
                    let actual: Duration
                    if case .none(let cap?) = path { actual = min(silence, cap) } else { actual = silence }
                    switch path {
                    case .fin(let limit), .rst(let limit):
                        let kind: ProbeCutKind = if case .fin = path { .fin } else { .rst }
                        queue.append((start, id, .started(actual, busy: said)))
                        queue.append(actual < limit ? (quietFrom + actual, id, .ended)
                                                    : (quietFrom + limit + noise, id, .cut(kind, lastActivity: quietFrom)))
                    case .silentDrop(let limit):
                        queue.append((start, id, .started(actual, busy: said)))
                        if actual < limit { queue.append((quietFrom + actual, id, .ended)) }
                    case .buffering504(let limit):
                        if actual < limit {
                            queue.append((quietFrom + actual, id, .started(actual, busy: said)))
                            queue.append((quietFrom + actual, id, .ended))
                        } else {
                            queue.append((quietFrom + limit + noise, id, .status(504, lastActivity: now)))
                        }
                    case .lifetimeFin(let limit):
                        let cutAt = now + limit + noise
                        queue.append((start, id, .started(actual, busy: said)))
                        queue.append(quietFrom + actual < cutAt ? (quietFrom + actual, id, .ended)
                                                                : (cutAt, id, .cut(.fin, lastActivity: min(quietFrom, cutAt))))
                    case .lifetime504(let limit):
                        let cutAt = now + limit + noise
                        if quietFrom + actual < cutAt {
                            queue.append((quietFrom + actual, id, .started(actual, busy: said)))
                            queue.append((quietFrom + actual, id, .ended))
                        } else {
                            queue.append((cutAt, id, .status(504, lastActivity: now)))
                        }
                    case .none:
                        queue.append((start, id, .started(actual, busy: said)))
                        queue.append((quietFrom + actual, id, .ended))
                    }
                case .close(let id):
                    open.remove(id)
                case .note(let note):
                    notes.append(note)
                case .finish, .fail:
                    finalAction = action
                    elapsed = now
                    return true
                }
            }
            return false
        }
        if carry(plan.start(at: now)) { return }
        for _ in 0..<10_000 {
            queue.sort { $0.at < $1.at }
            let nextEvent = queue.first?.at
            let nextTick = plan.nextDeadline
            guard nextEvent != nil || nextTick != nil else { return }
            if let nextEvent, nextTick.map({ nextEvent <= $0 }) ?? true {
                let (at, id, what) = queue.removeFirst()
                now = at
                guard open.contains(id) else { continue }
                let actions: [ProbeAction]
                switch what {
                case .started(let silence, let busy): actions = plan.streamStarted(id, silence: silence, busy: busy, at: now)
                case .ended:
                    open.remove(id)
                    actions = plan.streamSurvived(id, at: now)
                case .cut(let kind, let lastActivity):
                    open.remove(id)
                    actions = plan.streamCut(id, by: kind, lastActivity: lastActivity, at: now)
                case .status(let status, let lastActivity):
                    open.remove(id)
                    actions = plan.streamFailed(id, .status(status, reason: "Gateway Timeout", location: nil),
                                                lastActivity: lastActivity, at: now)
                }
                if carry(actions) { return }
            } else if let nextTick {
                now = nextTick
                if carry(plan.tick(at: now)) { return }
            }
        }
    }

    var outcome: ProbeOutcome? {
        if case .finish(let outcome) = finalAction { return outcome }
        return nil
    }
}

struct ProbePlanTests {
    static func settings(max: Duration = .seconds(900)) -> ProbePlanSettings { ProbePlanSettings(maxSilence: max) }

    @Test func theLadder_isCappedAtMax_andIncludesIt() {
        #expect(Self.settings(max: .seconds(10)).cappedLadder == [1, 2, 4, 8, 10].map { .seconds($0) })
        #expect(Self.settings(max: .seconds(900)).cappedLadder == ProbePlanSettings.defaultLadder)
        #expect(Self.settings(max: .seconds(1)).cappedLadder == [.seconds(1)])
    }

    @Test func theFirstStream_checksTheEndpoint_beforeTheLadderOpens() {
        var plan = ProbePlan(settings: Self.settings(max: .seconds(10)), url: "u")
        #expect(plan.start(at: .zero) == [.open(id: 0, silence: .seconds(1)), .note(.opened(round: 0, silences: [.seconds(1)]))])
        let actions = plan.streamStarted(0, silence: .seconds(1), at: .milliseconds(30))
        #expect(actions.filter { if case .open = $0 { true } else { false } }.count == 4)
        #expect(actions.last == .note(.opened(round: 0, silences: [2, 4, 8, 10].map { .seconds($0) })))
        #expect(plan.openStreams == 5)
    }

    @Test(arguments: [Duration.milliseconds(700), .milliseconds(2500), .seconds(37), .seconds(350)])
    func aFIN_measuresTheQuietTime_andOneBusyStreamConfirmsItIsAnIdleTimeout(limit: Duration) throws {
        let run = PlanSimulation(.fin(limit), settings: Self.settings())
        let outcome = try #require(run.outcome)
        #expect(outcome.cutBy == .fin)
        #expect(outcome.idleTimeout == limit)
        #expect(outcome.bracketLow == limit && outcome.bracketHigh == limit)
        #expect(outcome.lifetimeLimit == nil)
        #expect(run.notes.contains(.checkingLifetime(busy: limit / 2, silence: limit * 2)))
        #expect(run.elapsed < limit * 2.5 + .milliseconds(100), "the run stops at the check stream's cut")
    }

    @Test func anRST_isReportedAsRST() throws {
        let outcome = try #require(PlanSimulation(.rst(.milliseconds(2500)), settings: Self.settings()).outcome)
        #expect(outcome.cutBy == .rst && outcome.idleTimeout == .milliseconds(2500))
    }

    @Test func aBufferingIntermediarysErrorStatus_isAnHTTPErrorCut() throws {
        let outcome = try #require(PlanSimulation(.buffering504(.milliseconds(2500)), settings: Self.settings()).outcome)
        #expect(outcome.cutBy == .httpError && outcome.httpStatus == 504)
        #expect(outcome.idleTimeout == .milliseconds(2520), "quiet since the request: the limit plus the latency")
    }

    @Test(arguments: [Duration.milliseconds(700), .milliseconds(2500), .seconds(7), .seconds(60), .seconds(100), .seconds(350)])
    func aSilentDrop_isBracketed_within10Percent(limit: Duration) throws {
        let settings = Self.settings()
        let run = PlanSimulation(.silentDrop(limit), settings: settings)
        let outcome = try #require(run.outcome)
        let high = try #require(outcome.bracketHigh)
        #expect(outcome.cutBy == .silentDrop)
        #expect(outcome.bracketLow < limit && limit <= high, "\(outcome.bracketLow)...\(high) misses \(limit)")
        #expect(high - outcome.bracketLow <= settings.tolerance(high: high))
        #expect(outcome.idleTimeout == outcome.bracketLow)
        #expect(run.elapsed < limit * 3.2 + .seconds(30), "took \(run.elapsed) for \(limit)")
        #expect(run.notes.contains(.dropped(high)))
    }

    @Test func aBisectionRound_opensAsManyStreamsAsOneRoundNeeds_upTo8() {
        let settings = Self.settings()
        #expect(settings.streamsPerRound(low: .seconds(300), high: .seconds(600)) == 8)
        #expect(settings.streamsPerRound(low: .seconds(45), high: .seconds(60)) == 3)
        #expect(settings.streamsPerRound(low: .zero, high: .seconds(1)) == 3)
        #expect(settings.streamsPerRound(low: .seconds(10), high: .milliseconds(10_500)) == 1)
    }

    @Test func aSilentDrop_belowTheFirstRung_isStillBracketed() throws {
        let outcome = try #require(PlanSimulation(.silentDrop(.milliseconds(300)), settings: Self.settings()).outcome)
        #expect(outcome.cutBy == .silentDrop)
        #expect(outcome.bracketLow < .milliseconds(300) && .milliseconds(300) <= outcome.bracketHigh!)
    }

    @Test func noCut_upToMax_isNone() throws {
        let run = PlanSimulation(.none(cap: nil), settings: Self.settings(max: .seconds(10)))
        let outcome = try #require(run.outcome)
        #expect(outcome == ProbeOutcome(cutBy: .none, idleTimeout: nil, bracketLow: .seconds(10), bracketHigh: nil))
        #expect(run.elapsed >= .seconds(10) && run.elapsed < .seconds(11))
        #expect(run.opened == 5)
    }

    @Test func aServerCap_closesTheDuplicateStreams_andIsReported() throws {
        let run = PlanSimulation(.none(cap: .seconds(5)), settings: Self.settings(max: .seconds(60)))
        let outcome = try #require(run.outcome)
        #expect(outcome.cutBy == .none && outcome.bracketLow == .seconds(5) && outcome.serverCap == .seconds(5))
        #expect(run.elapsed < .seconds(6), "streams capped to the same silence are not waited for twice")
        #expect(run.notes.contains(.capped(requested: .seconds(8), actual: .seconds(5))))
    }

    // MARK: failures

    static func failure(after error: ProbeResponseError, quiet: Duration, started: Bool = false) -> ProbeFailure? {
        var plan = ProbePlan(settings: settings(), url: "http://h/p")
        _ = plan.start(at: .zero)
        if started { _ = plan.streamStarted(0, silence: .seconds(1), at: .milliseconds(10)) }
        let actions = plan.streamFailed(0, error, lastActivity: .milliseconds(10), at: .milliseconds(10) + quiet)
        #expect(plan.isFinished)
        if case .fail(let failure) = actions.last { return failure }
        return nil
    }

    @Test func a404_isNotAProbeEndpoint() {
        let failure = Self.failure(after: .status(404, reason: "Not Found", location: nil), quiet: .milliseconds(5))
        #expect(failure == ProbeFailure(.notProbeEndpoint, "HTTP 404 Not Found from http://h/p: is probe_path set to this path?"))
    }

    @Test func aRedirect_namesWhereItGoes() {
        let failure = Self.failure(after: .status(308, reason: "", location: "https://h/p"), quiet: .milliseconds(5))
        #expect(failure?.kind == .notProbeEndpoint)
        #expect(failure?.message.contains("a redirect to https://h/p") == true)
    }

    @Test func anErrorStatusAtOnce_isNotAnIdleTimeout() {
        let failure = Self.failure(after: .status(502, reason: "Bad Gateway", location: nil), quiet: .milliseconds(40))
        #expect(failure?.kind == .httpError)
        #expect(failure?.message.contains("before any silence") == true)
    }

    @Test func anErrorStatusAfterTheStreamShouldHaveEnded_isNotAnIdleTimeout() {
        let failure = Self.failure(after: .status(504, reason: "", location: nil), quiet: .seconds(5))
        #expect(failure?.kind == .httpError)
        #expect(failure?.message.contains("not an idle timeout") == true)
    }

    @Test func notAnEventStream_andNotAProbe_sayWhatToCheck() {
        #expect(Self.failure(after: .notEventStream(contentType: "text/html"), quiet: .zero)
            == ProbeFailure(.notEventStream, "the response from http://h/p is not an event stream (Content-Type: text/html): is probe_path set to this path?"))
        #expect(Self.failure(after: .notProbe(firstEvent: "message"), quiet: .zero)?.kind == .notProbeEndpoint)
        #expect(Self.failure(after: .malformed("bad"), quiet: .zero, started: true) == ProbeFailure(.protocolError, "http://h/p: bad"))
    }

    @Test func aCloseBeforeAnyResponse_isUnreachable_butACloseAfterTheStart_isACut() {
        var plan = ProbePlan(settings: Self.settings(), url: "http://h/p")
        _ = plan.start(at: .zero)
        #expect(plan.streamCut(0, by: .fin, lastActivity: .milliseconds(5), at: .milliseconds(6)).last
            == .fail(ProbeFailure(.unreachable, "http://h/p closed the connection before any response")))
        var started = ProbePlan(settings: Self.settings(), url: "http://h/p")
        _ = started.start(at: .zero)
        _ = started.streamStarted(0, silence: .seconds(1), at: .milliseconds(5))
        let actions = started.streamCut(0, by: .rst, lastActivity: .milliseconds(5), at: .milliseconds(305))
        #expect(actions.last == .finish(ProbeOutcome(cutBy: .rst, idleTimeout: .milliseconds(300),
                                                     bracketLow: .milliseconds(300), bracketHigh: .milliseconds(300))))
        #expect(actions.filter { if case .close = $0 { true } else { false } }.count == 13, "the ladder's other streams are closed")
    }

    @Test func noProbeStart_withinTheResponseTimeout_isNoResponse() {
        var plan = ProbePlan(settings: Self.settings(), url: "http://h/p")
        _ = plan.start(at: .zero)
        #expect(plan.nextDeadline == .seconds(11))
        #expect(plan.tick(at: .seconds(10)).isEmpty)
        #expect(plan.tick(at: .seconds(11)).last == .fail(ProbeFailure(.noResponse, "no response from http://h/p within 11.0s")))
    }

    @Test func eventsAfterTheEnd_orForUnknownStreams_areIgnored() {
        var plan = ProbePlan(settings: Self.settings(), url: "u")
        _ = plan.start(at: .zero)
        #expect(plan.streamSurvived(42, at: .seconds(1)).isEmpty)
        _ = plan.streamCut(0, by: .fin, lastActivity: .zero, at: .seconds(3))
        #expect(plan.isFinished)
        #expect(plan.tick(at: .seconds(100)).isEmpty)
        #expect(plan.streamStarted(0, silence: .seconds(1), at: .seconds(100)).isEmpty)
    }
}
