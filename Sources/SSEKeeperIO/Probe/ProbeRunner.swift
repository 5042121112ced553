import Glibc
import SSEKeeperCore

/// Runs `ssekeeper probe`: a `ProbePlan` driven by a `poll()` loop over every probe stream, on the calling thread.
///
/// Not Dispatch: this is a short-lived client that waits on a handful of sockets; one thread and `poll` keep
/// each stream's timing exact and the code linear (the Dispatch shell is for the proxy's hot path).
/// The host is resolved once (getaddrinfo, blocking); the first stream tries each address in turn, and the
/// one that connects serves every later stream.
public struct ProbeRunner {
    /// How long a TCP connect plus TLS handshake may take.
    public static let connectTimeout = Duration.seconds(10)

    /// The command's options.
    public let options: ProbeOptions
    /// The plan's settings (from `options.maxSilence` unless given).
    public let settings: ProbePlanSettings

    /// Creates a runner.
    public init(options: ProbeOptions, settings: ProbePlanSettings? = nil) {
        self.options = options
        self.settings = settings ?? ProbePlanSettings(maxSilence: options.maxSilence)
    }

    /// Runs the probe to its end; blocks for as long as the measurement takes (up to `maxSilence` and a grace).
    public func run(progress: ProbeProgress = ProbeProgress()) -> Result<ProbeOutcome, ProbeFailure> {
        signal(SIGPIPE, SIG_IGN)
        do throws(ProbeFailure) {
            var loop = try Loop(options: options, settings: settings, progress: progress)
            return .success(try loop.run())
        } catch {
            return .failure(error)
        }
    }
}

/// The state of one run.
private struct Loop {
    let options: ProbeOptions
    var plan: ProbePlan
    let progress: ProbeProgress
    let tlsContext: TLSClientContext?
    let addresses: [SocketAddress]
    /// The address streams connect to; advances while no stream has connected yet.
    var addressIndex = 0
    var connectedOnce = false
    var streams: [Int: ProbeStream] = [:]
    let startNanos = Loop.monotonicNanos()
    var nextStatus: Duration = .zero

    init(options: ProbeOptions, settings: ProbePlanSettings, progress: ProbeProgress) throws(ProbeFailure) {
        self.options = options
        self.progress = progress
        plan = ProbePlan(settings: settings, url: options.url.description)
        if options.url.scheme == .https {
            tlsContext = try TLSClientContext(library: try TLSLibrary.load(), caFile: options.caFile, insecure: options.insecure)
        } else {
            tlsContext = nil
        }
        do {
            addresses = try SocketAddress.resolve(host: options.url.host, port: options.url.port)
        } catch {
            throw ProbeFailure(.unreachable, "cannot resolve \"\(options.url.host)\": \(error.message)")
        }
        guard !addresses.isEmpty else { throw ProbeFailure(.unreachable, "\"\(options.url.host)\" has no address") }
    }

    mutating func run() throws(ProbeFailure) -> ProbeOutcome {
        defer { for stream in streams.values { stream.close() } }
        if let outcome = try apply(plan.start(at: now())) { return outcome }
        while true {
            let polled = streams.values.sorted { $0.id < $1.id }
            var fds = polled.map { pollfd(fd: $0.fd, events: $0.pollEvents, revents: 0) }
            let timeout = pollTimeout()
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR {
                throw ProbeFailure(.unreachable, "poll failed: \(SocketError.message(errno: errno))")
            }
            let current = now()
            for (index, stream) in polled.enumerated() where fds[index].revents != 0 {
                // The plan may have closed it (or a retry replaced it) while handling an earlier stream.
                guard streams[stream.id] === stream else { continue }
                for event in stream.handle(now: current) {
                    if let outcome = try handle(event, of: stream, at: current) { return outcome }
                }
            }
            for stream in streams.values.sorted(by: { $0.id < $1.id }) where stream.isConnecting && current >= stream.connectDeadline {
                if let outcome = try connectFailed(stream, reason: "timed out after \(TimeAmount(ProbeRunner.connectTimeout).formatted(.secondsToTenths))", at: current) {
                    return outcome
                }
            }
            if let outcome = try apply(plan.tick(at: current)) { return outcome }
            showStatus(at: current)
        }
    }

    /// Reports one stream event to the plan; closes the stream after a terminal one.
    private mutating func handle(_ event: ProbeStream.Event, of stream: ProbeStream, at now: Duration) throws(ProbeFailure) -> ProbeOutcome? {
        switch event {
        case .connected:
            connectedOnce = true
            return nil
        case .requestSent:
            plan.requestSent(stream.id, at: now)
            return nil
        case .started(let silence, let busy):
            return try apply(plan.streamStarted(stream.id, silence: silence, busy: busy, at: now))
        case .ended:
            drop(stream)
            return try apply(plan.streamSurvived(stream.id, at: now))
        case .cut(let kind):
            drop(stream)
            return try apply(plan.streamCut(stream.id, by: kind, lastActivity: stream.lastActivity, at: now))
        case .badResponse(let error):
            drop(stream)
            return try apply(plan.streamFailed(stream.id, error, lastActivity: stream.lastActivity, at: now))
        case .connectFailed(let code):
            return try connectFailed(stream, reason: SocketError.message(errno: code), at: now)
        case .tlsFailed(let detail):
            drop(stream)
            var message = "TLS handshake with \(options.url.hostField) failed: \(detail)"
            if detail.contains("mismatch") {
                message += "; the certificate does not name \(options.url.host)"
            } else if detail.contains("certificate verify failed") {
                message += "; trust your CA with --cacert FILE, or skip verification with --insecure"
            } else if detail.contains("wrong version number") {
                message += "; does this port speak TLS, or is the URL http://?"
            }
            throw ProbeFailure(.tls, message)
        case .ioFailed(let detail):
            drop(stream)
            throw ProbeFailure(.unreachable, "\(options.url): \(detail)")
        }
    }

    /// A connect failed: before any stream connected, the same stream tries the next address; after, or with
    /// none left, the URL is unreachable.
    private mutating func connectFailed(_ stream: ProbeStream, reason: String, at now: Duration) throws(ProbeFailure) -> ProbeOutcome? {
        drop(stream)
        if !connectedOnce && addressIndex + 1 < addresses.count {
            addressIndex += 1
            try open(id: stream.id, silence: stream.silence, busy: stream.busy, at: now)
            return nil
        }
        throw ProbeFailure(.unreachable, "cannot connect to \(stream.address) (\(options.url)): \(reason)")
    }

    /// Carries out the plan's actions; returns the outcome when the plan finished.
    private mutating func apply(_ actions: [ProbeAction]) throws(ProbeFailure) -> ProbeOutcome? {
        for action in actions {
            switch action {
            case .open(let id, let silence, let busy):
                try open(id: id, silence: silence, busy: busy, at: now())
            case .close(let id):
                if let stream = streams[id] { drop(stream) }
            case .note(let note):
                progress.onNote(note)
            case .finish(let outcome):
                return outcome
            case .fail(let failure):
                throw failure
            }
        }
        return nil
    }

    private mutating func open(id: Int, silence: Duration, busy: Duration, at now: Duration) throws(ProbeFailure) {
        while true {
            let address = addresses[addressIndex]
            do {
                streams[id] = try ProbeStream(id: id, silence: silence, busy: busy, url: options.url, address: address,
                                              tlsContext: tlsContext, now: now, connectTimeout: ProbeRunner.connectTimeout)
                return
            } catch {
                guard !connectedOnce && addressIndex + 1 < addresses.count else {
                    throw ProbeFailure(.unreachable, "cannot connect to \(address) (\(options.url)): \(error.message)")
                }
                addressIndex += 1
            }
        }
    }

    private mutating func drop(_ stream: ProbeStream) {
        stream.close()
        streams[stream.id] = nil
    }

    /// Milliseconds until the next thing to do: a plan deadline, a connect deadline, a status line.
    private mutating func pollTimeout() -> Int32 {
        let current = now()
        var next = current + .seconds(1)
        if let deadline = plan.nextDeadline { next = min(next, deadline) }
        for stream in streams.values where stream.isConnecting { next = min(next, stream.connectDeadline) }
        if progress.onStatus != nil { next = min(next, nextStatus) }
        return Int32(clamping: TimeAmount(next - current).millisecondsRoundedUp)
    }

    private mutating func showStatus(at now: Duration) {
        guard let onStatus = progress.onStatus, now >= nextStatus else { return }
        nextStatus = now + progress.statusInterval
        onStatus(ProbeReport.statusLine(elapsed: now, openStreams: plan.openStreams,
                                        longestSurvived: plan.longestSurvived, shortestDropped: plan.shortestDropped))
    }

    /// Time since the run started.
    private func now() -> Duration { .nanoseconds(Loop.monotonicNanos() - startNanos) }

    private static func monotonicNanos() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
