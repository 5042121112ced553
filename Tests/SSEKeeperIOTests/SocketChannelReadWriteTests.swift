import Foundation
import Glibc
import Testing
@testable import SSEKeeperIO

/// `SocketChannel` moving bytes over an established connection, driven directly on a real `EventLoop` over real TCP
/// connections on 127.0.0.1, in both of `ReadinessPoller`'s ways of waiting. Sockets are registered edge-triggered
/// once, so these guard what an edge that is never repeated could lose on the way in and out: bytes, a FIN, a reset,
/// reading paused and resumed, and the writable turn that drains what the kernel could not take.
@Suite(.serialized)
struct SocketChannelReadWriteTests {
    static let waitingModes = ChannelTestLoops.waitingModes

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
        try withConnectedChannel(waiting, configure: { $0.style = style }) { peer, channel in
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
    }

    @Test(arguments: waitingModes, RecordingChannelHandler.ReadStyle.allCases)
    func manySmallWritesWithPausesBetween_areReadWithoutLossOrReordering(
        waiting: ReadinessPoller.Waiting, style: RecordingChannelHandler.ReadStyle
    ) throws {
        try withConnectedChannel(waiting, configure: { $0.style = style }) { peer, channel in
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
    }

    @Test(arguments: waitingModes)
    func bytesAndACloseWhilePaused_areDeliveredAfterResuming(waiting: ReadinessPoller.Waiting) throws {
        try withConnectedChannel(waiting, configure: { $0.pauseAfterNextBytes = true }) { peer, channel in
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
    }

    @Test(arguments: waitingModes)
    func resumingWithNothingArrived_stillDeliversWhatComesLater(waiting: ReadinessPoller.Waiting) throws {
        try withConnectedChannel(waiting, configure: { $0.pauseAfterNextBytes = true }) { peer, channel in
            try peer.send("a")
            #expect(channel.waitUntil { channel, _ in channel.isReadingPaused })
            channel.onLoop { channel, _ in channel.resumeReading() }
            usleep(50_000)
            try peer.send("b")
            #expect(channel.waitUntil(seconds: 5) { _, handler in handler.received == Array("ab".utf8) })
            peer.close()
            #expect(channel.waitUntil(seconds: 5) { _, handler in handler.endOfFileCount == 1 })
        }
    }

    @Test(arguments: waitingModes)
    func aHandlerThatReturnsWithoutReading_isCalledAgain_untilItReads(waiting: ReadinessPoller.Waiting) throws {
        // Bytes already there when the channel starts; the handler ignores more calls than one delivery makes
        // (so the channel must carry the read over to a later batch).
        try withConnectedChannel(waiting, start: false, configure: { $0.callsToIgnore = 10 }) { peer, channel in
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
    }

    @Test(arguments: waitingModes)
    func endOfFile_isNotDeliveredAgain_whenLaterReportsArrive(waiting: ReadinessPoller.Waiting) throws {
        try withConnectedChannel(waiting) { peer, channel in
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
    }

    @Test(arguments: waitingModes)
    func aPeerReset_onAnIdleChannel_isReportedPromptly(waiting: ReadinessPoller.Waiting) throws {
        try withConnectedChannel(waiting) { peer, channel in
            #expect(channel.waitUntil { _, handler in handler.readableCalls > 0 }, "the first read after start")
            usleep(20_000)
            peer.reset()
            #expect(channel.waitUntil(seconds: 5) { _, handler in handler.hasEnded })
            channel.onLoop { _, handler in
                #expect(handler.readFailures.allSatisfy { $0 == ECONNRESET }, "\(handler.readFailures)")
                #expect(handler.received.isEmpty)
            }
        }
    }

    // MARK: Writing

    @Test(arguments: waitingModes)
    func writesTheKernelCannotTake_areQueued_thenDrainedInOrder(waiting: ReadinessPoller.Waiting) throws {
        try withConnectedChannel(waiting) { peer, channel in
            // A plain socket is registered for reads only (a new one no longer reports itself writable for nothing)
            // until a write waits.
            let fd = channel.onLoop { channel, _ in channel.fd }
            let atStart = try #require(epollRegisteredEvents(of: fd))
            #expect(atStart & epollOutBit == 0, "events \(String(atStart, radix: 16))")
            #expect(atStart & epollInBit != 0)
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
            // Write interest was added then; the writable report it brings flushes the rest.
            let waitingEvents = try #require(epollRegisteredEvents(of: fd))
            #expect(waitingEvents & epollOutBit != 0, "events \(String(waitingEvents, radix: 16))")

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
    }
}
