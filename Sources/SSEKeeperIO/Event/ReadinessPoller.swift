import CEpoll
import Dispatch
import Glibc
import SSEKeeperCore

/// Something registered with a loop's poller: told the epoll bits each time its descriptor is reported.
protocol PollTarget: AnyObject {
    /// Called on the loop's queue with the reported `SSK_EPOLL*` bits.
    func pollEvents(_ events: UInt32)
}

/// One epoll set per event loop, waited on by a thread of the loop (or, for comparison, a Dispatch read source on
/// the epoll descriptor: see `Waiting`).
///
/// Why: a Dispatch source per socket costs, per event, an `epoll_wait` on libdispatch's manager thread, an
/// `ioctl(FIONREAD)`, a worker wake-up and an `epoll_ctl` re-arm (measured with `strace -f`: about 11 system calls
/// and 3 thread wake-ups per proxied event, against nginx's 3 and 1); creating and cancelling sources per connection
/// costs more round trips through the manager. Here the wait is paid once per batch of ready sockets, however many
/// there are, and registering or closing a socket is one direct system call on the loop's own thread.
///
/// Sockets register edge-triggered (`EPOLLET`) once: pausing a read or waiting for a write changes a flag, not the
/// kernel's set. Plain sockets register for reads only, and add write interest (one `epoll_ctl`, kept for the
/// socket's life) the first time the kernel does not take a write whole. Their owners must therefore read until
/// they have seen the socket drained (see `SocketChannel`). A descriptor is never duplicated, so closing it removes it
/// from the set; a report that was already fetched for a closed descriptor is recognised by the generation in its
/// token and dropped.
///
/// Confinement: every method runs on `queue`; with `.thread` waiting, the waiting thread alone also uses `reports`
/// between batches, and hands each batch to `queue` synchronously.
///
/// The state touched per wake-up and per socket is `@exclusivity(unchecked)`: each access is a load, a store or a
/// mutation that calls out to nothing (targets are called after their slot is read), so no two accesses can
/// overlap, and the runtime's check cost about 75 instructions per access, some 40 per new stream (callgrind).
final class ReadinessPoller: @unchecked Sendable {
    private let queue: DispatchQueue
    private let epollFD: Int32
    private var source: DispatchSourceRead?
    /// Registered targets, indexed by descriptor number.
    @exclusivity(unchecked) private var targets: [PollTarget?] = []
    /// The generation each slot was registered under (the high half of a report's token).
    @exclusivity(unchecked) private var generations: [UInt32] = []
    @exclusivity(unchecked) private var nextGeneration: UInt32 = 0
    private let reports: UnsafeMutablePointer<ssk_poll_event>
    /// Channels whose owners left bytes unread (or resumed reading): served after the current batch.
    @exclusivity(unchecked) private var deferred: [SocketChannel] = []
    @exclusivity(unchecked) private var serving: [SocketChannel] = []
    @exclusivity(unchecked) private var flushScheduled = false
    @exclusivity(unchecked) private var inBatch = false

    /// Reports fetched per `epoll_wait`.
    static let batchCapacity: Int32 = 512
    /// `epoll_wait` calls per wake-up at most, so timers and queued work get a turn under load.
    static let maxWaitsPerWakeup = 4

    /// How the poller learns that the epoll set has ready sockets.
    enum Waiting {
        /// A Dispatch read source on the epoll descriptor (libdispatch's manager thread waits, a worker serves);
        /// the loop's deadlines run on a Dispatch timer.
        case dispatchSource
        /// A thread of this loop blocks in `epoll_wait`, with the loop's next deadline as its timeout, and serves
        /// each batch and the due deadlines on `queue` with `queue.sync` (which runs on the calling thread when the
        /// queue is idle): one wake-up per batch, as in nginx.
        case thread
    }

    let waiting: Waiting
    /// With `.thread`: wakes the waiting thread when a deadline earlier than its timeout is scheduled from
    /// elsewhere than the thread itself (an `eventfd` in the set).
    private var wakeFD: Int32 = -1
    /// With `.thread`: the deadline the waiting thread sleeps until (`.max`: none), set after each batch.
    @exclusivity(unchecked) private var sleepingUntil: UInt64 = .max
    /// With `.thread`: a batch is being served on the waiting thread, which recomputes its timeout afterwards.
    @exclusivity(unchecked) private var servingOnThread = false

    /// Creates the epoll set. Traps when the kernel refuses an epoll descriptor: a process that cannot make one at
    /// start cannot serve anything. Nothing is reported before `start`.
    init(queue: DispatchQueue, waiting: Waiting = .thread) {
        self.queue = queue
        self.waiting = waiting
        let fd = ssk_epoll_create()
        precondition(fd >= 0, "epoll_create1: \(SocketError.message(errno: errno))")
        epollFD = fd
        reports = .allocate(capacity: Int(Self.batchCapacity))
    }

    /// Starts waiting. With `.thread`, `expireDeadlines` runs on `queue` after every batch and every timeout and
    /// returns the next deadline (`.max`: none); with `.dispatchSource` it is not used (the loop keeps a timer).
    func start(expireDeadlines: @escaping () -> UInt64) {
        switch waiting {
        case .dispatchSource:
            let source = DispatchSource.makeReadSource(fileDescriptor: epollFD, queue: queue)
            // Strong capture: a loop, and so its poller, lives as long as the process (or the test) that made it.
            source.setEventHandler { [self] in serveReadySockets(waitedCount: nil) }
            self.source = source
            source.activate()
        case .thread:
            wakeFD = ssk_eventfd()
            precondition(wakeFD >= 0, "eventfd: \(SocketError.message(errno: errno))")
            precondition(register(WakeReader(fd: wakeFD, inbox: inbox), fd: wakeFD, events: UInt32(SSK_EPOLLIN)) == 0,
                         "epoll_ctl for the loop's eventfd")
            let context = ThreadContext(poller: self, expireDeadlines: expireDeadlines)
            var thread = pthread_t()
            // The thread keeps the poller alive (a loop lives as long as the process or the test that made it).
            let started = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
                // Named after the loop (`ssk-loop-0`, at most 15 bytes), so `top -H`, perf and
                // compare.py's per-thread split can tell the loops apart.
                _ = ssk_set_thread_name(context.poller.threadName)
                context.poller.waitOnThread(expireDeadlines: context.expireDeadlines)
                return nil
            }, Unmanaged.passRetained(context).toOpaque())
            precondition(started == 0, "pthread_create: \(SocketError.message(errno: started))")
            pthread_detach(thread)
        }
    }

    /// Work handed to this loop from other threads (`execute`), run by the loop's own thread in its next batch.
    private let inbox = LoopInbox()

    /// Runs `work` on this loop, from any thread. With `.thread` waiting, the loop's own thread runs it in its next
    /// batch (woken through the `eventfd` when the inbox was empty): unlike `queue.async`, which libdispatch serves
    /// on one of its worker threads while the loop's thread sleeps in `epoll_wait` — a second thread woken per
    /// hand-off (measured at two loops: the workers at ~4 % of a core each and 6.6 context switches per new stream
    /// against nginx's 4.7). With `.dispatchSource` waiting, `queue.async`.
    func execute(_ work: @escaping @Sendable () -> Void) {
        guard waiting == .thread else {
            queue.async(execute: work)
            return
        }
        if inbox.append(work) { signalWakeFD() }
    }

    /// Makes the waiting thread's `epoll_wait` return (the `eventfd` turns readable). Safe from any thread.
    private func signalWakeFD() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// With `.thread`, makes the waiting thread recompute its timeout when `deadline` is earlier than the one it
    /// sleeps until. Called on `queue` when the loop schedules a new earliest deadline.
    func wake(before deadline: UInt64) {
        guard waiting == .thread, !servingOnThread, deadline < sleepingUntil else { return }
        sleepingUntil = 0
        signalWakeFD()
    }

    /// The waiting thread's name: `ssk-` and the queue label after its first dot (`ssekeeper.loop.0` →
    /// `ssk-loop-0`), cut to Linux's 15 bytes.
    var threadName: String {
        let parts = queue.label.split(separator: ".").dropFirst()
        return String(("ssk-" + parts.joined(separator: "-")).utf8.prefix(15))!
    }

    /// The waiting thread's loop: block until something is ready or the next deadline, then serve on the queue.
    ///
    /// Each batch is served through one `DispatchWorkItem`, made once and run again for every batch
    /// (`queue.sync(execute:)` with a work item is a bare `dispatch_sync` of its block; the closure forms of `sync`
    /// allocated three objects per call, measured with a uprobe on `malloc`: ~4 per new stream, 1 per paced event).
    /// The batch's count goes in and the next timeout comes out through `batchCount` and `nextTimeout`, which only
    /// this thread uses, inside the work item and between the calls.
    private func waitOnThread(expireDeadlines: @escaping () -> UInt64) {
        let serveBatch = DispatchWorkItem { [self] in
            servingOnThread = true
            if batchCount > 0 { serveReadySockets(waitedCount: batchCount) }
            let next = expireDeadlines()
            servingOnThread = false
            sleepingUntil = next
            nextTimeout = Self.timeoutMillis(until: next, now: EventLoop.now())
        }
        while true {
            batchCount = ssk_epoll_wait(epollFD, reports, Self.batchCapacity, nextTimeout)
            if batchCount < 0 && errno != EINTR { fatalError("epoll_wait: \(SocketError.message(errno: errno))") }
            queue.sync(execute: serveBatch)
        }
    }

    /// With `.thread`: the reports of the batch being served (see `waitOnThread`).
    @exclusivity(unchecked) private var batchCount: Int32 = 0
    /// With `.thread`: `epoll_wait`'s timeout for the next wait, in milliseconds (-1: none).
    @exclusivity(unchecked) private var nextTimeout: Int32 = -1

    /// `epoll_wait`'s timeout for sleeping until `deadline`: rounded up to whole milliseconds (never early), -1 for
    /// none.
    static func timeoutMillis(until deadline: UInt64, now: UInt64) -> Int32 {
        guard deadline != .max else { return -1 }
        guard deadline > now else { return 0 }
        return Int32(clamping: TimeAmount(nanoseconds: deadline - now).millisecondsRoundedUp)
    }

    /// Adds `fd` to the set for `events`; `target` is told of its reports until `unregister`. Returns 0, or the
    /// errno of a refusal (`ENOMEM`, or `ENOSPC` past `max_user_watches`).
    func register(_ target: PollTarget, fd: Int32, events: UInt32) -> Int32 {
        let index = Int(fd)
        if index >= targets.count {
            let count = max(index + 1, targets.count * 2, 64)
            targets.append(contentsOf: repeatElement(nil, count: count - targets.count))
            generations.append(contentsOf: repeatElement(0, count: count - generations.count))
        }
        nextGeneration &+= 1
        targets[index] = target
        generations[index] = nextGeneration
        guard ssk_epoll_add(epollFD, fd, events, token(fd)) == 0 else {
            let code = errno
            targets[index] = nil
            return code
        }
        return 0
    }

    /// Changes the events `fd` is registered for (a listener pausing its accepts, a socket adding write interest).
    /// Returns 0, or the errno of a refusal (`ENOMEM`).
    @discardableResult
    func modify(fd: Int32, events: UInt32) -> Int32 {
        ssk_epoll_modify(epollFD, fd, events, token(fd)) == 0 ? 0 : errno
    }

    /// Forgets `fd`'s target. The caller is about to close it, which removes it from the kernel's set.
    func unregister(fd: Int32) {
        let index = Int(fd)
        guard index < targets.count else { return }
        targets[index] = nil
        generations[index] = 0
    }

    /// Serves `channel`'s unread bytes after the current batch, or soon when no batch is running. Deferred while
    /// deferred channels are being served (a connect found done when the accepted client's request started it), it
    /// is served in a second pass of the same turn.
    func deferRead(_ channel: SocketChannel) {
        deferred.append(channel)
        if !inBatch && !servingDeferred { scheduleDeferredFlush() }
    }

    /// Serves the deferred channels from the loop's queue soon (no batch is running to do it).
    private func scheduleDeferredFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        queue.async { [self] in
            flushScheduled = false
            serveDeferred()
        }
    }

    private func token(_ fd: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: fd)) | UInt64(generations[Int(fd)]) << 32
    }

    /// Tells each target what is ready (`waitedCount` reports already fetched by the waiting thread, else fetched
    /// here), then serves deferred reads.
    private func serveReadySockets(waitedCount: Int32?) {
        inBatch = true
        var waits = 0
        var fetched = waitedCount
        while waits < Self.maxWaitsPerWakeup {
            waits += 1
            let count = fetched ?? ssk_epoll_wait(epollFD, reports, Self.batchCapacity, 0)
            fetched = nil
            guard count > 0 else { break }
            for report in UnsafeBufferPointer(start: reports, count: Int(count)) {
                let index = Int(UInt32(truncatingIfNeeded: report.token))
                guard index < targets.count, generations[index] == UInt32(truncatingIfNeeded: report.token >> 32),
                      let target = targets[index] else { continue }
                target.pollEvents(report.events)
            }
            if count < Self.batchCapacity { break }
        }
        inBatch = false
        serveDeferred()
    }

    /// Serves the deferred channels, in at most `deferredPasses` passes: what a pass defers again (a socket still
    /// holding bytes after its rounds, or one the pass's work started) waits for the next pass, and after the last
    /// for a later turn, so one busy socket cannot keep the loop from `epoll_wait`.
    private func serveDeferred() {
        var passes = 0
        while !deferred.isEmpty && passes < Self.deferredPasses {
            passes += 1
            servingDeferred = true
            swap(&deferred, &serving)
            for channel in serving { channel.serveDeferredRead() }
            serving.removeAll(keepingCapacity: true)
            servingDeferred = false
        }
        if !deferred.isEmpty { scheduleDeferredFlush() }
    }

    /// Passes over the deferred channels per turn (see `serveDeferred`).
    static let deferredPasses = 2
    /// The deferred channels are being served: a channel deferred now waits for the next pass.
    @exclusivity(unchecked) private var servingDeferred = false
}

/// What the waiting thread needs; handed over retained through `pthread_create`'s context pointer.
private final class ThreadContext {
    let poller: ReadinessPoller
    let expireDeadlines: () -> UInt64

    init(poller: ReadinessPoller, expireDeadlines: @escaping () -> UInt64) {
        self.poller = poller
        self.expireDeadlines = expireDeadlines
    }
}

/// The loop's `eventfd`: reading it resets the wake-up (the thread then recomputes its timeout), and runs the work
/// other threads handed to the loop meanwhile.
private final class WakeReader: PollTarget {
    let fd: Int32
    let inbox: LoopInbox

    init(fd: Int32, inbox: LoopInbox) {
        self.fd = fd
        self.inbox = inbox
    }

    func pollEvents(_ events: UInt32) {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
        inbox.runAll()
    }
}

/// Work handed to a loop from other threads: appended under a lock, taken whole by the loop's thread.
private final class LoopInbox: Sendable {
    private let work = Locked<[@Sendable () -> Void]>([])

    /// Adds `item`; true when the inbox was empty, so the caller must wake the loop (a wake-up already owed covers
    /// the rest: the loop takes everything queued when it runs).
    func append(_ item: @escaping @Sendable () -> Void) -> Bool {
        work.withLock { queued in
            queued.append(item)
            return queued.count == 1
        }
    }

    /// Runs everything queued so far, on the loop's thread.
    func runAll() {
        let items = work.withLock { queued in
            let taken = queued
            queued.removeAll()
            return taken
        }
        for item in items { item() }
    }
}
