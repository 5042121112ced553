/// The decisions of `ssekeeper probe`: which probe streams to open, what their fates mean, when to stop.
///
/// Pure (time is passed in as the duration since the run started). The shell opens and watches the streams and
/// reports each one's fate; the plan answers with actions.
///
/// - A stream cut explicitly (`fin`, `rst`, an error status after the silence began) measures the idle timeout
///   at once: its quiet time Q since the last byte. The other streams would be cut alike and are closed. One
///   check stream tells an idle timeout from a lifetime limit (`ProbeLimit`): busy for Q/2 (the endpoint's
///   `busy` phase), then 2Q of silence. An idle timeout cuts it Q after its busy phase, at an older age; a
///   lifetime limit cuts it at the same age as the first, after less quiet. When the check cannot tell (it
///   survived, was dropped, or the server ignores `busy`), the first cut is reported as an idle timeout.
/// - A silent drop (no FIN, no RST: a middlebox forgets the connection) cannot be seen on one stream. So the
///   first stream (the shortest silence) checks the endpoint, then the rest of a ladder of silences opens at
///   once; a stream whose `probe-end` does not come within its silence plus a grace counts as dropped. The
///   bracket is [longest survived, shortest dropped]; bisection rounds of concurrent streams evenly inside it
///   (as many as one round needs, up to 8) narrow it to `tolerance` (10 % or 250 ms), or `maxRounds` rounds.
/// - If every stream survives up to `maxSilence`, there is no idle timeout up to it.
public struct ProbePlan: Sendable {
    /// The settings of this run.
    public let settings: ProbePlanSettings
    /// The URL as written in messages.
    public let url: String

    private struct Stream: Sendable {
        var requested: Duration
        var silence: Duration
        /// The busy phase asked for before the silence (zero for the ladder and bisection streams).
        var busy: Duration = .zero
        var openedAt: Duration
        /// When the request was sent (`requestSent(_:at:)`); `openedAt` until the shell says.
        var sentAt: Duration?
        var startedAt: Duration?
    }

    /// The first explicit cut, kept while the check stream for a lifetime limit runs.
    private struct FirstCut: Sendable {
        var kind: ProbeCutKind
        var httpStatus: Int?
        /// The measured quiet time: the idle timeout, unless the check finds a lifetime limit.
        var quiet: Duration
        var timing: ProbeLimit.Cut
    }

    private var firstCut: FirstCut?

    /// Streams still waiting for their fate, by id.
    private var streams: [Int: Stream] = [:]
    private var nextID = 0
    /// Whether some stream's `probe-start` arrived: the URL is a probe endpoint.
    private var validated = false
    private var round = 0
    private var finished = false
    private var serverCap: Duration?

    /// The longest silence that survived so far (zero before any).
    public private(set) var longestSurvived: Duration = .zero
    /// The shortest silence that was dropped so far.
    public private(set) var shortestDropped: Duration?

    /// Creates the plan for one run.
    public init(settings: ProbePlanSettings, url: String) {
        self.settings = settings
        self.url = url
    }

    /// Streams open and still informative.
    public var openStreams: Int { streams.count }

    /// Whether the run is over.
    public var isFinished: Bool { finished }

    /// The earliest time at which `tick(at:)` has something to decide, if any stream is open.
    public var nextDeadline: Duration? {
        streams.values.map(deadline).min()
    }

    /// Starts the run: one stream with the shortest silence, to check the endpoint before opening the rest.
    public mutating func start(at now: Duration) -> [ProbeAction] {
        let first = settings.cappedLadder[0]
        return [open(first, at: now), .note(.opened(round: 0, silences: [first]))]
    }

    /// A stream's request was sent in full: its age runs from now (until then, from when it was opened).
    public mutating func requestSent(_ id: Int, at now: Duration) {
        guard !finished else { return }
        streams[id]?.sentAt = now
    }

    /// A stream's `probe-start` arrived, announcing `silence` (and `busy`, the busy phase before it, when the
    /// event names one). The first one opens the rest of the ladder. A check stream whose `probe-start` names no
    /// busy phase met a server that ignores `busy`: the first cut is then reported as an idle timeout.
    public mutating func streamStarted(_ id: Int, silence: Duration, busy: Duration? = nil, at now: Duration) -> [ProbeAction] {
        guard !finished, var stream = streams[id] else { return [] }
        if stream.busy > .zero, busy == nil, let first = firstCut {
            return [.note(.lifetimeCheckUnsupported)] + end(.finish(idleOutcome(first)))
        }
        stream.startedAt = now
        var actions: [ProbeAction] = []
        if silence < stream.requested {
            serverCap = silence
            actions.append(.note(.capped(requested: stream.requested, actual: silence)))
            if streams.contains(where: { $0.key != id && $0.value.silence == silence }) {
                streams[id] = nil
                return actions + [.close(id: id)]
            }
        }
        stream.silence = silence
        streams[id] = stream
        guard !validated else { return actions }
        validated = true
        let rest = settings.cappedLadder.dropFirst().filter { $0 > silence }
        for rung in rest { actions.append(open(rung, at: now)) }
        if !rest.isEmpty { actions.append(.note(.opened(round: 0, silences: Array(rest)))) }
        return actions
    }

    /// A stream's `probe-end` arrived: its silence survived.
    public mutating func streamSurvived(_ id: Int, at now: Duration) -> [ProbeAction] {
        guard !finished, let stream = streams.removeValue(forKey: id) else { return [] }
        longestSurvived = max(longestSurvived, stream.silence)
        return [.note(.survived(stream.silence))] + advance(at: now)
    }

    /// A stream's connection was closed (`.fin`) or reset (`.rst`) before `probe-end`; the last byte arrived (or
    /// the request was sent, if nothing arrived) at `lastActivity`.
    public mutating func streamCut(_ id: Int, by kind: ProbeCutKind, lastActivity: Duration, at now: Duration) -> [ProbeAction] {
        guard !finished, let stream = streams.removeValue(forKey: id) else { return [] }
        let quiet = now - lastActivity
        if stream.startedAt == nil && quiet < settings.minimumQuiet && firstCut == nil {
            let how = kind == .rst ? "reset" : "closed"
            return end(.fail(ProbeFailure(.unreachable, "\(url) \(how) the connection before any response")))
        }
        return cut(stream, by: kind, httpStatus: nil, quiet: quiet, lastActivity: lastActivity, at: now)
    }

    /// An explicit cut: the first one opens the check stream for a lifetime limit (or, when no check can tell,
    /// ends the run with an idle timeout); the check's own cut ends the run with what the two show.
    private mutating func cut(_ stream: Stream, by kind: ProbeCutKind, httpStatus: Int?, quiet: Duration,
                              lastActivity: Duration, at now: Duration) -> [ProbeAction] {
        let sentAt = stream.sentAt ?? stream.openedAt
        let silenceFrom = max(lastActivity, sentAt + stream.busy)
        let timing = ProbeLimit.Cut(age: now - sentAt, quiet: now > silenceFrom ? now - silenceFrom : .zero)
        let note = ProbeAction.note(.cut(busy: stream.busy, silence: stream.silence, quiet: timing.quiet, age: timing.age))
        if let first = firstCut {
            if case .lifetime(let age) = ProbeLimit.judge([first.timing, timing], tolerance: settings.tolerance(high:)) {
                return [note] + end(.finish(ProbeOutcome(cutBy: first.kind, idleTimeout: nil, bracketLow: longestSurvived,
                                                         bracketHigh: nil, httpStatus: first.httpStatus,
                                                         serverCap: serverCap, lifetimeLimit: age)))
            }
            return [note] + end(.finish(idleOutcome(first)))
        }
        let first = FirstCut(kind: kind, httpStatus: httpStatus, quiet: quiet, timing: timing)
        firstCut = first
        let busy = TimeAmount(quiet * settings.lifetimeCheckBusyFraction).rounded(downTo: .milliseconds(1)).duration
        let silence = TimeAmount(quiet * settings.lifetimeCheckSilenceFactor).rounded(downTo: .milliseconds(1)).duration
        // The check must move its cut by more than the tolerance, one way or the other, to tell anything; and
        // a cut before any probe-start proved the endpoint is not worth checking.
        guard validated, busy > settings.tolerance(high: quiet + busy) else { return [note] + end(.finish(idleOutcome(first))) }
        let closes = streams.keys.sorted().map { ProbeAction.close(id: $0) }
        streams.removeAll()
        let open = open(silence, busy: busy, at: now)
        return [note] + closes + [open, .note(.checkingLifetime(busy: busy, silence: silence))]
    }

    /// The outcome for `first` taken as an idle timeout.
    private func idleOutcome(_ first: FirstCut) -> ProbeOutcome {
        ProbeOutcome(cutBy: first.kind, idleTimeout: first.quiet, bracketLow: first.quiet, bracketHigh: first.quiet,
                     httpStatus: first.httpStatus, serverCap: serverCap)
    }

    /// A stream's response was not the probe's: an error status (an idle cut when it is 408 or 5xx and came
    /// after the silence began, before the stream should have ended), or not a probe endpoint at all.
    public mutating func streamFailed(_ id: Int, _ error: ProbeResponseError, lastActivity: Duration,
                                      at now: Duration) -> [ProbeAction] {
        guard !finished, let stream = streams.removeValue(forKey: id) else { return [] }
        let quiet = now - lastActivity
        switch error {
        case .status(let status, let reason, let location):
            let said = "HTTP \(status)\(reason.isEmpty ? "" : " \(reason)") from \(url)"
            switch status {
            case 300...399:
                let target = location.map { " to \($0)" } ?? ""
                return end(.fail(ProbeFailure(.notProbeEndpoint, "\(said): a redirect\(target); probe the URL it names")))
            case 400...499 where status != 408:
                return end(.fail(ProbeFailure(.notProbeEndpoint, "\(said): is probe_path set to this path?")))
            default:
                let after = TimeAmount(quiet).formatted(.secondsToTenths)
                if quiet < settings.minimumQuiet {
                    return end(.fail(ProbeFailure(.httpError, "\(said) after \(after), before any silence: "
                        + "is ssekeeper running behind it with probe_path set to this path?")))
                }
                if quiet > stream.busy + stream.silence + settings.grace(for: stream.silence) {
                    return end(.fail(ProbeFailure(.httpError, "\(said) after \(after) on a stream asking for "
                        + "\(TimeAmount(stream.silence).formatted(.secondsToTenths)) of silence: not an idle timeout; "
                        + "is ssekeeper reachable behind it?")))
                }
                return cut(stream, by: .httpError, httpStatus: status, quiet: quiet, lastActivity: lastActivity, at: now)
            }
        case .notEventStream(let contentType):
            let type = contentType.map { "Content-Type: \($0.prefix(80))" } ?? "no Content-Type"
            return end(.fail(ProbeFailure(.notEventStream, "the response from \(url) is not an event stream "
                + "(\(type)): is probe_path set to this path?")))
        case .notProbe(let firstEvent):
            return end(.fail(ProbeFailure(.notProbeEndpoint, "\(url) sends an event stream, but its first event is "
                + "\"\(firstEvent)\", not probe-start: this is not ssekeeper's probe endpoint (set probe_path to this path)")))
        case .malformed(let detail):
            return end(.fail(ProbeFailure(.protocolError, "\(url): \(detail)")))
        }
    }

    /// Time passed: streams whose `probe-end` is overdue count as dropped (or, before any stream started, as
    /// no response at all).
    public mutating func tick(at now: Duration) -> [ProbeAction] {
        guard !finished else { return [] }
        var actions: [ProbeAction] = []
        for (id, stream) in streams.sorted(by: { $0.key < $1.key }) where now >= deadline(stream) {
            guard validated else {
                return end(.fail(ProbeFailure(.noResponse, "no response from \(url) within "
                    + "\(TimeAmount(now - stream.openedAt).formatted(.secondsToTenths))")))
            }
            streams[id] = nil
            shortestDropped = min(shortestDropped ?? stream.silence, stream.silence)
            actions += [.close(id: id), .note(.dropped(stream.silence))]
        }
        return actions.isEmpty ? [] : actions + advance(at: now)
    }

    /// When `stream` is overdue.
    private func deadline(_ stream: Stream) -> Duration {
        guard validated else { return stream.openedAt + stream.silence + settings.responseTimeout }
        return (stream.startedAt ?? stream.openedAt) + stream.busy + stream.silence + settings.grace(for: stream.silence)
    }

    /// Closes streams the bracket made useless; with none left, finishes or starts a bisection round.
    private mutating func advance(at now: Duration) -> [ProbeAction] {
        var actions: [ProbeAction] = []
        for (id, stream) in streams.sorted(by: { $0.key < $1.key })
        where stream.silence <= longestSurvived || shortestDropped.map({ stream.silence >= $0 }) == true {
            streams[id] = nil
            actions.append(.close(id: id))
        }
        guard streams.isEmpty else { return actions }
        // The check stream for a lifetime limit survived or was dropped: it cannot tell; the cut stands.
        if let first = firstCut { return actions + end(.finish(idleOutcome(first))) }
        guard let high = shortestDropped else {
            return actions + end(.finish(ProbeOutcome(cutBy: .none, idleTimeout: nil, bracketLow: longestSurvived,
                                                      bracketHigh: nil, serverCap: serverCap)))
        }
        let low = longestSurvived
        if high - low <= settings.tolerance(high: high) || round >= settings.maxRounds {
            return actions + end(.finish(ProbeOutcome(cutBy: .silentDrop, idleTimeout: low, bracketLow: low,
                                                      bracketHigh: high, serverCap: serverCap)))
        }
        round += 1
        var points: [Duration] = []
        let count = settings.streamsPerRound(low: low, high: high)
        for index in 1...count {
            let point = TimeAmount(low + (high - low) * (Double(index) / Double(count + 1))).rounded(downTo: .milliseconds(1)).duration
            if point > low, point < high, !points.contains(point) { points.append(point) }
        }
        guard !points.isEmpty else {
            return actions + end(.finish(ProbeOutcome(cutBy: .silentDrop, idleTimeout: low, bracketLow: low,
                                                      bracketHigh: high, serverCap: serverCap)))
        }
        for point in points { actions.append(open(point, at: now)) }
        return actions + [.note(.opened(round: round, silences: points))]
    }

    private mutating func open(_ silence: Duration, busy: Duration = .zero, at now: Duration) -> ProbeAction {
        let id = nextID
        nextID += 1
        streams[id] = Stream(requested: silence, silence: silence, busy: busy, openedAt: now)
        return .open(id: id, silence: silence, busy: busy)
    }

    /// Ends the run: closes every open stream, then `final`.
    private mutating func end(_ final: ProbeAction) -> [ProbeAction] {
        finished = true
        let closes = streams.keys.sorted().map { ProbeAction.close(id: $0) }
        streams.removeAll()
        return closes + [final]
    }
}
