import Glibc
@testable import SSEKeeperIO

/// A `SocketChannelHandler` for tests that drive a `SocketChannel` directly: records what the channel tells it
/// (bytes, end of file, errors, connects, drains) and reads the way a test asks.
///
/// Confinement: like the channel, touched only on the loop's queue (tests go through `LoopbackChannel.onLoop`).
final class RecordingChannelHandler: SocketChannelHandler {
    /// How a call to `channelReadable` reads.
    enum ReadStyle: CaseIterable, Sendable {
        /// Reads until `.wouldBlock` (or the end), as the contract asks.
        case untilWouldBlock
        /// Reads once and returns, even when bytes may remain: the channel must call again (as sessions do after a
        /// short read, relying on the channel to know whether the socket may still hold bytes).
        case oneReadPerCall
    }

    var style: ReadStyle
    private(set) var received: [UInt8] = []
    private(set) var endOfFileCount = 0
    private(set) var readFailures: [Int32] = []
    private(set) var connectResults: [Int32] = []
    private(set) var drainedCount = 0
    private(set) var writeFailures: [Int32] = []
    /// Every call to `channelReadable`, including ignored ones.
    private(set) var readableCalls = 0
    /// Calls to `channelReadable` after the end (EOF or a read error) was seen.
    private(set) var callsAfterEnd = 0

    /// Calls to return from at once without reading (a handler that leaves bytes in the socket).
    var callsToIgnore = 0
    /// Pauses reading right after the next bytes (one shot).
    var pauseAfterNextBytes = false
    /// Aborts the channel at end of file or a read error.
    var abortAtEnd = false
    /// Aborts the channel when its connect finishes, whatever the outcome.
    var abortAtConnect = false
    /// Called at the start of every `channelReadable`.
    var onReadable: ((SocketChannel) -> Void)?
    /// Called after bytes were appended to `received`.
    var onBytes: ((SocketChannel) -> Void)?
    /// Called when the end is read (before `abortAtEnd` applies).
    var onEnd: ((SocketChannel) -> Void)?

    init(style: ReadStyle = .untilWouldBlock) {
        self.style = style
    }

    /// End of file or a read error was seen.
    var hasEnded: Bool { endOfFileCount > 0 || !readFailures.isEmpty }

    func channelReadable(_ channel: SocketChannel) {
        readableCalls += 1
        if hasEnded { callsAfterEnd += 1 }
        onReadable?(channel)
        if callsToIgnore > 0 {
            callsToIgnore -= 1
            return
        }
        while !channel.isClosed {
            switch channel.read() {
            case .bytes(let count):
                received.append(contentsOf: UnsafeRawBufferPointer(rebasing: channel.loop.readBuffer[..<count]))
                onBytes?(channel)
                if pauseAfterNextBytes {
                    pauseAfterNextBytes = false
                    channel.pauseReading()
                    return
                }
                if style == .oneReadPerCall { return }
            case .wouldBlock:
                return
            case .endOfFile:
                endOfFileCount += 1
                ended(channel)
                return
            case .failed(let code):
                readFailures.append(code)
                ended(channel)
                return
            }
        }
    }

    private func ended(_ channel: SocketChannel) {
        onEnd?(channel)
        if abortAtEnd { channel.abort() }
    }

    func channelConnected(_ channel: SocketChannel, error: Int32) {
        connectResults.append(error)
        if abortAtConnect { channel.abort() }
    }

    func channelDrained(_ channel: SocketChannel) {
        drainedCount += 1
    }

    func channelWriteFailed(_ channel: SocketChannel, error: Int32) {
        writeFailures.append(error)
    }
}
