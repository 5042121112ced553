/// Whether a client still accepts the bytes ssekeeper sends it (`client_send_timeout`).
///
/// "Accepts" means acknowledged by the client's TCP, not merely taken by our kernel: on loopback the send buffer
/// grows to megabytes, so a reader that stopped reading would otherwise look healthy for a long time. The shell
/// reads two figures from the socket when it checks — the bytes still outstanding (waiting in ssekeeper plus sent
/// but unacknowledged, `SIOCOUTQ`) and the running total the peer has acknowledged (`TCP_INFO`'s `tcpi_bytes_acked`)
/// — and asks this watch. A client is stalled when bytes were outstanding and the acknowledged total did not move
/// for the whole timeout; a slow reader that acknowledges anything within the timeout is never cut.
///
/// Pure: times are monotonic nanoseconds passed in.
public struct SendProgressWatch: Sendable, Equatable {
    /// What one check found.
    public enum Verdict: Sendable, Equatable {
        /// Nothing is outstanding: nothing to watch until more is written.
        case idle
        /// Bytes are outstanding but the client accepted some within the timeout: check again at `checkAt`.
        case waiting(checkAt: UInt64)
        /// Bytes have been outstanding with no acknowledgement for at least the timeout.
        case stalled(sinceNanos: UInt64)
    }

    /// `client_send_timeout`.
    public let timeoutNanos: UInt64
    /// The acknowledged total at the last check.
    public private(set) var ackedBytes: UInt64 = 0
    /// When the last check was made (0: never).
    public private(set) var lastCheckAt: UInt64 = 0
    /// When the client last acknowledged bytes, or when bytes became outstanding after an idle spell (0: never
    /// observed).
    public private(set) var lastProgressAt: UInt64 = 0
    /// Whether the last check found bytes outstanding.
    private var outstanding = false

    /// A watch that calls a client stalled after `timeoutNanos` without progress.
    public init(timeoutNanos: UInt64) {
        self.timeoutNanos = timeoutNanos
    }

    /// How often a check is worth making while bytes are outstanding: a quarter of the timeout, at most a second,
    /// at least 10 ms.
    public var checkIntervalNanos: UInt64 {
        min(max(timeoutNanos / 4, 10_000_000), 1_000_000_000)
    }

    /// One check at `now`: `outstandingBytes` not yet acknowledged (ssekeeper's queue plus the kernel's), and the
    /// peer's acknowledged total `ackedBytes` (monotonic for one connection).
    public mutating func check(now: UInt64, outstandingBytes: Int, ackedBytes acked: UInt64) -> Verdict {
        defer {
            ackedBytes = acked
            lastCheckAt = max(now, 1)
        }
        if lastProgressAt == 0 || acked != ackedBytes {
            lastProgressAt = max(now, 1)
        }
        guard outstandingBytes > 0 else {
            outstanding = false
            return .idle
        }
        if !outstanding {
            // Outstanding bytes after an idle spell: the silence counts from now, not from the last acknowledgement.
            outstanding = true
            lastProgressAt = max(now, 1)
        }
        let silent = now &- lastProgressAt
        if silent >= timeoutNanos { return .stalled(sinceNanos: silent) }
        return .waiting(checkAt: now + min(checkIntervalNanos, timeoutNanos - silent))
    }
}
