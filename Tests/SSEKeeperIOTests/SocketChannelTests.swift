import Foundation
import Glibc
import Testing
@testable import SSEKeeperIO

/// `SocketChannel` driven directly on a real `EventLoop`, over real TCP connections on 127.0.0.1, in both of
/// `ReadinessPoller`'s ways of waiting. Sockets are registered edge-triggered once, so these guard what an edge
/// that is never repeated could lose: bytes, a FIN, a reset, a connect's outcome, a writable turn, and reports
/// that must not reach a channel that reused a closed descriptor's number.
@Suite(.serialized)
struct SocketChannelTests {
    static let waitingModes: [ReadinessPoller.Waiting] = [.thread, .dispatchSource]

    // MARK: Reading

    @Test(arguments: waitingModes, [false, true])
    func bytesAndFINArrivingTogether_areReadInOrder_thenEndOfFileOnce(waiting: ReadinessPoller.Waiting, beforeStart: Bool) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        // A few bytes (one short read, then the FIN) and more than one read buffer (several full reads), read
        // either way a handler may read.
        let payloads = [Array("hello".utf8), bytePattern(count: 3 * EventLoop.readBufferBytes + 1234)]
        let cases = payloads.flatMap { payload in RecordingChannelHandler.ReadStyle.allCases.map { (payload, $0) } }
        for (payload, style) in cases {
            let (peer, channel) = try listener.connectedPair(loop: loop, start: !beforeStart) { $0.style = style }
            defer { channel.abort() }
            if !beforeStart {
                #expect(channel.waitUntil { _, handler in handler.readableCalls > 0 }, "the first read after start")
            }
            try peer.send(payload)
            peer.close()
            if beforeStart { channel.start() }
            #expect(channel.waitUntil { _, handler in handler.hasEnded })
            // Anything late (a second end of file, another call) would show within this pause.
            usleep(200_000)
            channel.onLoop { _, handler in
                #expect(firstDifference(handler.received, payload) == nil)
                #expect(handler.endOfFileCount == 1)
                #expect(handler.readFailures.isEmpty)
                #expect(handler.callsAfterEnd == 0)
            }
        }
    }

    @Test(arguments: waitingModes, RecordingChannelHandler.ReadStyle.allCases)
    func moreThanOneReadBufferOfBytes_isReadWhole_whileTheConnectionStaysOpen(
        waiting: ReadinessPoller.Waiting, style: RecordingChannelHandler.ReadStyle
    ) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop) { $0.style = style }
        defer { channel.abort() }
        // No FIN follows: only the channel's own record of "not yet seen drained" brings the reads after the first.
        let payload = bytePattern(count: 5 * EventLoop.readBufferBytes + 77, seed: 7)
        try peer.send(payload)
        #expect(channel.waitUntil { _, handler in handler.received.count >= payload.count })
        channel.onLoop { _, handler in
            #expect(firstDifference(handler.received, payload) == nil)
            #expect(!handler.hasEnded)
        }
        withExtendedLifetime(peer) {}
    }

    @Test(arguments: waitingModes, RecordingChannelHandler.ReadStyle.allCases)
    func manySmallWritesWithPausesBetween_areReadWithoutLossOrReordering(
        waiting: ReadinessPoller.Waiting, style: RecordingChannelHandler.ReadStyle
    ) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop) { $0.style = style }
        defer { channel.abort() }
        var sent: [UInt8] = []
        for index in 0..<200 {
            let record = Array("<\(index)>".utf8)
            if index % 3 == 0 {
                // Byte by byte: each its own segment (TCP_NODELAY), each its own edge.
                for byte in record { try peer.send([byte]) }
            } else {
                try peer.send(record)
            }
            sent += record
            if index % 10 == 0 {
                usleep(5_000)
            } else if index % 2 == 0 {
                usleep(300)
            }
        }
        peer.close()
        #expect(channel.waitUntil { _, handler in handler.hasEnded })
        channel.onLoop { _, handler in
            #expect(firstDifference(handler.received, sent) == nil)
            #expect(handler.endOfFileCount == 1)
        }
    }

    @Test(arguments: waitingModes)
    func bytesAndACloseWhilePaused_areDeliveredAfterResuming(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop) { $0.pauseAfterNextBytes = true }
        defer { channel.abort() }
        try peer.send("first")
        #expect(channel.waitUntil { channel, handler in channel.isReadingPaused && !handler.received.isEmpty })
        try peer.send("second")
        peer.close()
        // While paused nothing is delivered: neither the bytes nor the close.
        usleep(300_000)
        channel.onLoop { _, handler in
            #expect(handler.received == Array("first".utf8))
            #expect(!handler.hasEnded)
        }
        channel.onLoop { channel, _ in channel.resumeReading() }
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.hasEnded })
        channel.onLoop { _, handler in
            #expect(handler.received == Array("firstsecond".utf8))
            #expect(handler.endOfFileCount == 1)
        }
    }

    @Test(arguments: waitingModes)
    func resumingWithNothingArrived_stillDeliversWhatComesLater(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop) { $0.pauseAfterNextBytes = true }
        defer { channel.abort() }
        try peer.send("a")
        #expect(channel.waitUntil { channel, _ in channel.isReadingPaused })
        channel.onLoop { channel, _ in channel.resumeReading() }
        usleep(50_000)
        try peer.send("b")
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.received == Array("ab".utf8) })
        peer.close()
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.endOfFileCount == 1 })
    }

    @Test(arguments: waitingModes)
    func aHandlerThatReturnsWithoutReading_isCalledAgain_untilItReads(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        // Bytes already there when the channel starts; the handler ignores more calls than one delivery makes
        // (so the channel must carry the read over to a later batch).
        let (peer, channel) = try listener.connectedPair(loop: loop, start: false) { $0.callsToIgnore = 10 }
        defer { channel.abort() }
        try peer.send("hello")
        usleep(50_000)
        channel.start()
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.received == Array("hello".utf8) })
        #expect(channel.onLoop { $1.readableCalls } >= 11)

        // The same after a report from the poller rather than the start.
        channel.onLoop { _, handler in handler.callsToIgnore = 10 }
        let callsBefore = channel.onLoop { $1.readableCalls }
        try peer.send("world")
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.received == Array("helloworld".utf8) })
        #expect(channel.onLoop { $1.readableCalls } - callsBefore >= 11)
    }

    @Test(arguments: waitingModes)
    func endOfFile_isNotDeliveredAgain_whenLaterReportsArrive(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop)
        defer { channel.abort() }
        try peer.send("bye")
        peer.close()
        #expect(channel.waitUntil { _, handler in handler.endOfFileCount == 1 })
        // The owner keeps the channel after the end and writes: the closed peer answers with a reset, which the
        // poller reports (EPOLLERR, EPOLLHUP). The end was told once; it must not be told again and again.
        #expect(channel.onLoop { channel, _ in channel.write(Array("late".utf8)) }.isWritten)
        usleep(300_000)
        channel.onLoop { _, handler in
            #expect(handler.received == Array("bye".utf8))
            #expect(handler.endOfFileCount == 1)
            #expect(handler.callsAfterEnd == 0, "called \(handler.callsAfterEnd) times after the end")
        }
    }

    @Test(arguments: waitingModes)
    func aPeerReset_onAnIdleChannel_isReportedPromptly(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop)
        defer { channel.abort() }
        #expect(channel.waitUntil { _, handler in handler.readableCalls > 0 }, "the first read after start")
        usleep(20_000)
        peer.reset()
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.hasEnded })
        channel.onLoop { _, handler in
            #expect(handler.readFailures.allSatisfy { $0 == ECONNRESET }, "\(handler.readFailures)")
            #expect(handler.received.isEmpty)
        }
    }

    // MARK: Writing

    @Test(arguments: waitingModes)
    func writesTheKernelCannotTake_areQueued_thenDrainedInOrder(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let (peer, channel) = try listener.connectedPair(loop: loop)
        defer { channel.abort() }
        // 16 MiB in 1 MiB writes while the peer reads nothing: more than the send and receive buffers hold
        // (tcp_wmem and tcp_rmem maxima are 4 and 6 MiB by default), so later writes join the queue.
        let piece = 1 << 20
        let payload = bytePattern(count: 16 * piece)
        let pending = channel.onLoop { channel, _ in
            for start in stride(from: 0, to: payload.count, by: piece) {
                let outcome = payload.withUnsafeBytes { channel.write(UnsafeRawBufferPointer(rebasing: $0[start..<start + piece])) }
                #expect(outcome.isWritten)
            }
            return channel.pendingByteCount
        }
        #expect(pending > 0)
        #expect(channel.onLoop { $1.drainedCount } == 0)

        var received: [UInt8] = []
        received.reserveCapacity(payload.count)
        while received.count < payload.count {
            let some = try peer.receiveSome(max: 1 << 20)
            if some.isEmpty { break }
            received += some
        }
        #expect(firstDifference(received, payload) == nil)
        #expect(channel.waitUntil(seconds: 5) { channel, handler in handler.drainedCount >= 1 && channel.pendingByteCount == 0 })
        channel.onLoop { _, handler in #expect(handler.writeFailures.isEmpty) }
    }

    // MARK: Connecting

    @Test(arguments: waitingModes)
    func aConnectToAClosedPort_reportsTheRefusal(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: closedPort())[0]
        let fd = try Socket.startConnect(to: address)
        let channel = LoopbackChannel(loop: loop, fd: fd, connecting: true)
        defer { channel.abort() }
        #expect(channel.waitUntil(seconds: 5) { _, handler in !handler.connectResults.isEmpty })
        channel.onLoop { _, handler in
            #expect(handler.connectResults == [ECONNREFUSED])
            #expect(handler.readableCalls == 0, "no reads before a connect succeeded")
        }
    }

    @Test(arguments: waitingModes)
    func aConnectToAListeningPort_reportsSuccess_thenWritesQueuedMeanwhileArrive_andReadingWorks(
        waiting: ReadinessPoller.Waiting
    ) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        let fd = try Socket.startConnect(to: try listener.address)
        let channel = LoopbackChannel(loop: loop, fd: fd, connecting: true) { _ in }
        defer { channel.abort() }
        // Written before the connect is known to have finished: queued, then flushed.
        #expect(channel.onLoop { channel, _ in channel.write(Array("early".utf8)) }.isWritten)
        #expect(channel.waitUntil(seconds: 5) { _, handler in !handler.connectResults.isEmpty })
        #expect(channel.onLoop { $1.connectResults } == [0])

        let accepted = try listener.acceptOne()
        makeBlocking(accepted)
        let peer = TestSocket(fd: accepted)
        var early: [UInt8] = []
        while early.count < 5 {
            let some = try peer.receiveSome()
            if some.isEmpty { break }
            early += some
        }
        #expect(early == Array("early".utf8))
        try peer.send("reply")
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.received == Array("reply".utf8) })
        peer.close()
        #expect(channel.waitUntil(seconds: 5) { _, handler in handler.endOfFileCount == 1 })
    }

    // MARK: Descriptor reuse

    @Test(arguments: waitingModes)
    func aReportForAClosedDescriptor_doesNotReachTheChannelThatReusedItsNumber(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        // A listener whose accept queue is full (backlog 0, one connection waiting): a connect to it stays in
        // progress (its SYNs are dropped), so a channel connecting to it must not hear "connected" at all.
        let blackHole = try LoopbackListener(backlog: 0)
        defer { blackHole.close() }
        let filler = try Socket.startConnect(to: try blackHole.address)
        defer { close(filler) }
        usleep(50_000)

        let (peerZ, channelZ) = try listener.connectedPair(loop: loop)
        let (peerB, channelB) = try listener.connectedPair(loop: loop)
        let (peerA, channelA) = try listener.connectedPair(loop: loop)
        defer { channelA.abort(); channelZ.abort() }
        for channel in [channelZ, channelB, channelA] {
            #expect(channel.waitUntil { _, handler in handler.readableCalls > 0 }, "the first read after start")
        }

        // A's bytes make its handler abort B and open a connecting channel C on B's number, in the middle of a
        // batch whose next report is B's (fetched before B was closed).
        let reuse = StaleReportScenario()
        let blackHoleAddress = try blackHole.address
        let fdOfB = channelB.fd
        channelA.onLoop { _, handlerA in
            handlerA.onBytes = { channel in
                guard reuse.channelC == nil else { return }
                channelB.onLoopAlreadyThere { channelB, _ in channelB.abort() }
                var extras: [Int32] = []
                for _ in 0..<64 {
                    guard let fd = try? Socket.startConnect(to: blackHoleAddress) else { break }
                    if fd == fdOfB {
                        let channelC = SocketChannel(fd: fd, loop: channel.loop, connecting: true)
                        channelC.handler = reuse.handlerC
                        channelC.start()
                        reuse.channelC = channelC
                        break
                    }
                    extras.append(fd)
                }
                for fd in extras { close(fd) }
            }
        }
        // Z's report makes the poller's waiting thread (if any) hand a batch to the busy queue; A's then B's
        // reports wait in the kernel's ready list, in that order, for the next batch.
        loop.queue.sync {
            try? peerZ.send("z")
            usleep(100_000)
            try? peerA.send("a")
            try? peerB.send("b")
            usleep(100_000)
        }
        #expect(channelA.waitUntil(seconds: 5) { _, handler in handler.received == Array("a".utf8) })
        // C's connect cannot finish (its SYNs are dropped while the black hole's queue stays full): a connect
        // report within this pause can only come from B's stale report.
        usleep(500_000)
        loop.queue.sync {
            #expect(reuse.channelC != nil, "descriptor \(fdOfB) was not reused (another test took it?)")
            #expect(reuse.handlerC.connectResults.isEmpty, "C heard \(reuse.handlerC.connectResults) from B's stale report")
            #expect(reuse.handlerC.readableCalls == 0)
            reuse.channelC?.abort()
        }
        withExtendedLifetime((peerZ, peerA, peerB)) {}
    }

    @Test(arguments: waitingModes)
    func manyChannelsOpenedAndAborted_leaveALongLivedOneIntact_andNoDescriptorBehind(waiting: ReadinessPoller.Waiting) throws {
        let loop = ChannelTestLoops.loop(waiting)
        let listener = try LoopbackListener()
        defer { listener.close() }
        // Connects made by the test itself go here; it accepts and closes their far ends.
        let side = try LoopbackListener()
        defer { side.close() }
        let sideAddress = try side.address
        // Connects made inside a batch go here, where they stay in progress (see the stale-report test): any
        // connect report they hear is a report meant for the descriptor's previous channel.
        let blackHole = try LoopbackListener(backlog: 0)
        defer { blackHole.close() }
        let blackHoleAddress = try blackHole.address
        let filler = try Socket.startConnect(to: blackHoleAddress)
        defer { close(filler) }
        let ports: Set<UInt16> = [listener.port, side.port]
        let churn = ChurnState()

        // The long-lived channel. Each time it is called (inside a batch) it aborts the churn channels queued for
        // it, whose own reports may be next in the same batch, and opens connecting channels on the numbers just
        // freed.
        let (longPeer, longLived) = try listener.connectedPair(loop: loop)
        defer { longLived.abort() }
        longLived.onLoop { _, handler in
            handler.onReadable = { channel in
                let queued = churn.abortInBatch
                churn.abortInBatch.removeAll()
                for victim in queued { victim.abort() }
                for _ in 0..<queued.count {
                    guard let fd = try? Socket.startConnect(to: blackHoleAddress) else { continue }
                    let connecting = SocketChannel(fd: fd, loop: channel.loop, connecting: true)
                    let recorder = RecordingChannelHandler()
                    connecting.handler = recorder
                    connecting.start()
                    churn.inProgress.append((connecting, recorder))
                }
            }
        }
        #expect(longLived.waitUntil { _, handler in handler.readableCalls > 0 })
        let socketsBefore = socketsUsing(ports: ports)
        let descriptorsBefore = openDescriptorCount()

        var expected: [UInt8] = []
        var victimPeers: [TestSocket] = []
        let cycles = 2_000
        for cycle in 0..<cycles {
            let record = Array("[\(cycle)]".utf8)
            expected += record
            // With the queue held, the long-lived channel's report is queued first, then the FINs of the previous
            // victims' peers: both reach the poller in one batch, in that order, when nothing else is ready.
            try loop.queue.sync {
                try longPeer.send(record)
                for peer in victimPeers { peer.close() }
            }
            victimPeers.removeAll()

            let tag = Array("tag\(cycle)".utf8)
            let client = try TestSocket.connect(port: listener.port)
            let mode = cycle % 4
            if mode == 1 || mode == 2 { try client.send(tag) }
            if mode == 1 { client.close() }
            if mode == 2 { victimPeers.append(client) }
            let accepted = try listener.acceptOne()
            loop.queue.sync {
                while case .accepted(let far) = Socket.accept(from: side.fd) { close(far) }
                switch mode {
                case 0:
                    // Opened and aborted at once: its registration's first report may already be on its way.
                    let channel = SocketChannel(fd: accepted, loop: loop)
                    channel.handler = RecordingChannelHandler()
                    channel.start()
                    channel.abort()
                case 1, 2:
                    let channel = SocketChannel(fd: accepted, loop: loop)
                    let recorder = RecordingChannelHandler()
                    recorder.abortAtEnd = true
                    if mode == 1 {
                        recorder.onEnd = { _ in if recorder.received != tag { churn.mismatches += 1 } }
                    } else {
                        churn.abortInBatch.append(channel)
                    }
                    channel.handler = recorder
                    channel.start()
                    churn.channels.append(channel)
                default:
                    close(accepted)
                    guard let fd = try? Socket.startConnect(to: sideAddress) else { return }
                    let channel = SocketChannel(fd: fd, loop: loop, connecting: true)
                    let recorder = RecordingChannelHandler()
                    recorder.abortAtConnect = true
                    channel.handler = recorder
                    channel.start()
                    churn.channels.append(channel)
                }
            }
            if mode != 2 { client.close() }
            if cycle % 100 == 0 {
                // Forget channels already closed, so the list stays short.
                loop.queue.sync { churn.channels.removeAll { $0.isClosed } }
            }
        }
        // One more record, so the long-lived handler aborts what is still queued for it.
        try loop.queue.sync {
            try longPeer.send("[end]")
            for peer in victimPeers { peer.close() }
        }
        expected += Array("[end]".utf8)

        #expect(longLived.waitUntil(seconds: 20) { _, handler in handler.received.count >= expected.count })
        longLived.onLoop { _, handler in
            #expect(firstDifference(handler.received, expected) == nil)
            #expect(!handler.hasEnded)
        }
        let allClosed = longLived.waitUntil(seconds: 10) { _, _ in
            while case .accepted(let far) = Socket.accept(from: side.fd) { close(far) }
            churn.channels.removeAll { $0.isClosed }
            return churn.channels.isEmpty && churn.abortInBatch.isEmpty
        }
        #expect(allClosed, "\(loop.queue.sync { churn.channels.count }) churn channels never heard their end or connect")
        loop.queue.sync {
            #expect(churn.mismatches == 0)
            #expect(churn.inProgress.count >= cycles / 4 - 1, "connects opened inside batches")
            let misled = churn.inProgress.count { !$0.handler.connectResults.isEmpty || $0.handler.readableCalls > 0 }
            #expect(misled == 0, "channels that heard a report meant for their descriptor's previous channel")
            for (channel, _) in churn.inProgress { channel.abort() }
            churn.inProgress.removeAll()
            for channel in churn.channels { channel.abort() }
            churn.channels.removeAll()
        }

        // Exact for this test's own sockets; the whole process's count gets a margin, since other suites may be
        // running at the same time (2,000 cycles would leak hundreds of descriptors at least).
        #expect(longLived.waitUntil(seconds: 5) { _, _ in socketsUsing(ports: ports) == socketsBefore },
                "sockets on \(ports): \(socketsUsing(ports: ports)), before \(socketsBefore)")
        let margin = 100
        #expect(longLived.waitUntil(seconds: 5) { _, _ in openDescriptorCount() <= descriptorsBefore + margin },
                "descriptors: \(openDescriptorCount()), before \(descriptorsBefore)")
        withExtendedLifetime(longPeer) {}
    }
}

/// What the churn test shares with handlers on the loop. Touched only on the loop's queue.
private final class ChurnState: @unchecked Sendable {
    /// Churn channels that should close by themselves (end of file, connect) or be aborted by the long-lived one.
    var channels: [SocketChannel] = []
    /// Channels the long-lived handler aborts on its next call.
    var abortInBatch: [SocketChannel] = []
    /// Channels that saw bytes other than their own peer's.
    var mismatches = 0
    /// Connecting channels opened inside batches, whose connects never finish.
    var inProgress: [(channel: SocketChannel, handler: RecordingChannelHandler)] = []
}

/// What the stale-report test's handler sets up on the loop. Touched only on the loop's queue.
private final class StaleReportScenario: @unchecked Sendable {
    var channelC: SocketChannel?
    let handlerC = RecordingChannelHandler()
}

extension SocketChannel.WriteOutcome {
    var isWritten: Bool {
        if case .written = self { return true }
        return false
    }
}
