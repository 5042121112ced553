import Dispatch
import Glibc
import SSEKeeperCore
import Synchronization

/// Something with a deadline on an event loop (a connection's header timeout, its next heartbeat, …).
///
/// A target has at most one deadline in its loop's heap: scheduling it again moves that deadline (earlier or later),
/// and `EventLoop.cancelDeadline` takes it out, which a target does when it ends so the heap does not keep it alive.
protocol DeadlineTarget: AnyObject {
    /// Called on the loop's queue when the deadline it scheduled passed; the target is then out of the heap until it
    /// schedules again. The target still checks `deadline` against what it wants now (a deadline it moved later
    /// than it needs, say, fires early).
    /// An entry may be popped up to the loop's slack (4 ms) before `deadline`: treat it as reached, and never
    /// re-insert a deadline at or before `deadline` (the sweep would pop it again at once).
    func deadlineReached(_ deadline: UInt64, now: UInt64)
    /// Its handle in the loop's heap (`DeadlineHeapMember`): written by the heap only, -1 while not scheduled. A
    /// stored `var deadlineSlot = -1` in each target.
    var deadlineSlot: Int { get set }
}

/// A target as a heap member: its handle lives in the target itself.
struct ScheduledTarget: DeadlineHeapMember {
    let target: any DeadlineTarget

    var heapSlot: Int {
        get { target.deadlineSlot }
        nonmutating set { target.deadlineSlot = newValue }
    }
}

/// One serial Dispatch queue, its epoll set (`poller`), and what every connection on it shares.
///
/// Confinement: every property is touched only on `queue`. Connections are created on the loop and stay there,
/// so their handlers never race. The shared `readBuffer` is safe because a handler uses it only synchronously.
/// Deadlines live in one heap (instead of one timer per connection, see docs/dispatch-history.md): the poller's
/// waiting thread sleeps until the earliest one, or, when waiting through a Dispatch source, one coarse
/// `DispatchSourceTimer` is armed at it.
final class EventLoop: @unchecked Sendable {
    /// The queue every handler of this loop runs on (its connections, deadlines and poll batches).
    let queue: DispatchQueue
    /// Scratch space for `read`: one per loop, never held across handler invocations.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Scratch space for assembling one client write (head, chunk header, data, CRLF) before a single `send`.
    @exclusivity(unchecked) var output = RelayOutput(capacity: EventLoop.readBufferBytes + 64)
    /// Live sessions, so they stay alive while their sockets are registered; removed when they finish.
    /// Confined to `queue`, and the table's mutations call out to nothing but the sessions' `sessionSlot` setters:
    /// the exclusivity check (about 65 instructions an access, two per connection) is off.
    @exclusivity(unchecked) var sessions = SessionTable()
    /// Idle keep-alive connections to upstream servers, reused by this loop's sessions (`upstream_keepalive`).
    lazy var idleUpstreams = IdleUpstreamConnections(loop: self)
    /// The streams kept for client ride-through on this loop, by token (`client_resume_window`).
    let rideThrough = RideThroughRegistry()
    /// The figures this loop's connections count (a scrape hops onto `queue` to copy them).
    let metrics = LoopMetrics()
    /// The metrics boxes of the routes requests used lately, by route object (see `routeMetrics(_:)`).
    /// Confined to `queue`, and no access calls back into the loop: the exclusivity check is off.
    @exclusivity(unchecked) private var recentRouteMetrics: [(route: Route, box: RouteMetrics)] = []
    /// The epoll set every socket of this loop is registered with.
    let poller: ReadinessPoller
    /// Bounds the "client closed a stream while the upstream was quiet" warnings (10 per 10 s per loop): a mass
    /// disconnect must not flood the log.
    var quietCloseWarnings = WarningBudget()
    /// The ages of this loop's recent quiet client closes: only a close at about the age of an earlier one is
    /// worth that warning (see `QuietCloseAges`).
    var quietCloseAges = QuietCloseAges()

    /// The deadline state is `@exclusivity(unchecked)` (as `ReadinessPoller`'s is): the heap's mutations call out
    /// only to set their targets' slots, and targets are called after `expireDeadlines` has popped them.
    @exclusivity(unchecked) private var heap = DeadlineHeap<ScheduledTarget>()
    /// The loop's timer, with `.dispatchSource` waiting only (see `arm`).
    private var timer: DispatchSourceTimer?
    @exclusivity(unchecked) private var armedDeadline: UInt64 = .max
    /// Deadlines this close together are handled in one wake-up. Every wake-up of a sleeping thread costs a
    /// context switch (measured with `perf` at 9,000 heartbeats a second, 1 ms slack: `finish_task_switch` was a
    /// sixth of ssekeeper's CPU); 4 ms bounds them to 250 a second, and a heartbeat sent 4 ms early is harmless.
    private let timerSlackNanos: UInt64 = 4_000_000

    /// Size of the shared read buffer.
    static let readBufferBytes = 64 * 1024

    init(label: String, waiting: ReadinessPoller.Waiting = .thread) {
        queue = DispatchQueue(label: label)
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readBufferBytes, alignment: 16)
        poller = ReadinessPoller(queue: queue, waiting: waiting)
        // Strong captures: a loop lives as long as the process (or the test) that made it; sessions and
        // timers may outlive the server object that created it.
        if waiting == .dispatchSource {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [self] in
                let next = expireDeadlines()
                if next != .max { arm(next) }
            }
            timer.schedule(deadline: .distantFuture, repeating: .never)
            timer.activate()
            self.timer = timer
        }
        poller.start(expireDeadlines: { [self] in expireDeadlines() })
    }

    /// Monotonic now in nanoseconds, on Dispatch's clock (the one its timers use): `CLOCK_MONOTONIC`, which
    /// `DispatchTime.now()` reads on Linux too, through `dispatch_time` (about 60 instructions more per read, 19
    /// reads per new stream; callgrind). `EventLoopClockTests` checks the two agree.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// The metrics box of `route`'s label: `metrics.route(route.prefix)`, found by the route object among the few
    /// routes used lately, so a request does not hash its route's prefix (a dictionary lookup by string, some 300
    /// instructions, callgrind). The entries hold their routes, so an object's identity is not reused while it is
    /// here; after a reload the old routes' entries are dropped once more than 16 are kept. Call on `queue`.
    func routeMetrics(_ route: Route) -> RouteMetrics {
        if let index = recentRouteMetrics.firstIndex(where: { $0.route === route }) { return recentRouteMetrics[index].box }
        if recentRouteMetrics.count >= 16 { recentRouteMetrics.removeAll(keepingCapacity: true) }
        let box = metrics.route(route.prefix)
        recentRouteMetrics.append((route, box))
        return box
    }

    /// Schedules `target.deadlineReached` at `deadline`, moving the deadline it had, if any. Must be called on
    /// `queue`.
    func schedule(_ target: DeadlineTarget, at deadline: UInt64) {
        heap.insert(ScheduledTarget(target: target), at: deadline)
        if deadline < armedDeadline { arm(deadline) }
    }

    /// How many targets have a deadline in the heap (for tests and diagnostics). Must be read on `queue`.
    var scheduledDeadlineCount: Int { heap.count }

    /// Takes `target`'s deadline out of the heap (an ended connection or stream: the heap must not keep it alive
    /// until its old deadline). Must be called on `queue`. The loop may still wake at the time it had armed, and
    /// finds nothing due.
    func cancelDeadline(_ target: DeadlineTarget) {
        heap.remove(ScheduledTarget(target: target))
    }

    /// The context `runtime` holds now, as this loop last read it: the lock is taken only after a reload (a changed
    /// `contextGeneration`), not for each of the five reads of a new stream (its admission, its connection, its
    /// request, its access record). Process-wide, that lock was the one every loop took per connection. Call on
    /// `queue`.
    ///
    /// A reader that loads the new generation reads the new context under the lock (`replace` stores it before
    /// counting); one that still loads the old generation keeps the old context a moment longer, as a request that
    /// started just before the reload would.
    ///
    /// Every finished request's access record goes to `context(of:).accessLog`, the current context's log,
    /// whichever context the request started with: after a reload that moves `access_log`, records of streams
    /// opened before it land in the new file too, and SIGUSR1 (`ProxyServer.reopenLogs`) reopens the one file still
    /// written to.
    func context(of runtime: ProxyRuntime) -> ProxyContext {
        let generation = runtime.contextGeneration.load(ordering: .acquiring)
        if let seen = seenContext, seen.generation == generation, seen.runtime === runtime { return seen.context }
        let context = runtime.context
        seenContext = (runtime, generation, context)
        return context
    }

    /// What `context(of:)` read last. It holds the runtime, so another runtime (in tests) cannot reuse its address.
    @exclusivity(unchecked) private var seenContext: (runtime: ProxyRuntime, generation: UInt64, context: ProxyContext)?

    /// A session (a connection kept in `sessions`) is done on this loop: its deadline leaves the heap and its entry
    /// leaves `sessions`, so neither keeps it alive. Must be called on `queue`.
    func endSession(_ session: any LoopSession) {
        cancelDeadline(session)
        sessions.remove(session)
    }

    private func arm(_ deadline: UInt64) {
        armedDeadline = deadline
        // The waiting mode, not `if let timer`: unwrapping the optional existential went through generic value
        // witnesses, about 2 µs per new connection at 500 connections/s (cold caches; measured with perf).
        if poller.waiting == .dispatchSource {
            timer!.schedule(deadline: DispatchTime(uptimeNanoseconds: deadline), repeating: .never, leeway: .milliseconds(4))
        } else {
            poller.wake(before: deadline)
        }
    }

    /// Entries popped in one sweep, reused so a sweep does not allocate.
    @exclusivity(unchecked) private var expired: [DeadlineHeap<ScheduledTarget>.Entry] = []

    /// Calls the targets whose deadlines passed; returns the next deadline (`.max`: none), which counts as armed.
    private func expireDeadlines() -> UInt64 {
        armedDeadline = .max
        let now = Self.now()
        // Collect first, then call: a target that schedules again "now" waits for the next firing instead of
        // being popped again in this sweep, so no deadline can keep the loop spinning here.
        while let entry = heap.popExpired(now: now + timerSlackNanos) { expired.append(entry) }
        for entry in expired { entry.payload.target.deadlineReached(entry.deadline, now: now) }
        expired.removeAll(keepingCapacity: true)
        // A target may have scheduled (and armed) an earlier deadline meanwhile.
        armedDeadline = min(armedDeadline, heap.earliest ?? .max)
        return armedDeadline
    }
}

/// The loops of one process; connections are spread over them round-robin.
final class EventLoopGroup: Sendable {
    let loops: [EventLoop]
    private let next = Atomic<Int>(0)

    init(count: Int, label: String = "ssekeeper.loop") {
        // `SSEKEEPER_POLL_WAIT=dispatch` waits through a Dispatch source instead, for comparing the two
        // (docs/BENCHMARKS.md, "How ssekeeper waits for sockets"); the default is what measured better.
        let waiting: ReadinessPoller.Waiting = getenv("SSEKEEPER_POLL_WAIT").map { String(cString: $0) } == "dispatch" ? .dispatchSource : .thread
        loops = (0..<max(1, count)).map { EventLoop(label: "\(label).\($0)", waiting: waiting) }
    }

    /// The loop for the next connection. Safe from any thread.
    func nextLoop() -> EventLoop {
        if loops.count == 1 { return loops[0] }
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[index % loops.count]
    }
}
