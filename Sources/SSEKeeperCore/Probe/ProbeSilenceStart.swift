/// When a probe stream's silence began, as the intermediaries on the path saw it.
///
/// The client sees `probe-start` arrive late when something on the path holds the first bytes back (HAProxy sends
/// them with `MSG_MORE`, about 200 ms; some CDNs buffer more). An intermediary's idle timer runs from when the
/// server's bytes passed it, not from when the client got them, so measuring from the arrival underestimates the
/// timeout by that delay. `probe-start` carries the server's wall-clock time: when it lies between the moment the
/// request was sent and the moment the event arrived (by the client's wall clock), the clocks agree well enough
/// and the silence is taken to start then. Otherwise (clocks apart) the arrival counts, which can only
/// underestimate: the safe side for the recommendation.
public enum ProbeSilenceStart {
    /// How long before the arrival of `probe-start` its silence began, in milliseconds (0 when the server's time
    /// cannot be trusted). All three times are wall-clock milliseconds since the epoch.
    public static func backdateMillis(requestSentAt: Int64, arrivedAt: Int64, serverTime: Int64?) -> Int64 {
        guard let serverTime, requestSentAt <= serverTime, serverTime <= arrivedAt else { return 0 }
        return arrivedAt - serverTime
    }
}
