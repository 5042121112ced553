/// `drain_spread`, and the rule that keeps it inside `drain_timeout`.
extension ConfigBuilder {
    /// `drain_spread` accepts 0s (no spread) up to a day; `finish()` also keeps it below `drain_timeout`.
    static let drainSpreadRange = Duration.zero...durationRange.upperBound
    /// The spread when `drain_spread` is not written, unless half of `drain_timeout` is shorter.
    static let defaultDrainSpread = Duration.seconds(2)

    /// `drain_spread DURATION;`: the window a drain spreads the ends of SSE streams over (`0s`: all at once).
    mutating func applyDrainSpread(_ argument: ConfigArgument) {
        guard let value = duration(argument, in: Self.drainSpreadRange) else { return }
        limits.drainSpread = value
        drainSpreadToken = argument.token
    }

    /// A written `drain_spread` must be shorter than `drain_timeout` (else the drain would give up on the streams
    /// whose turn comes last), reported at its argument. An unwritten one is 2s, or half of `drain_timeout` when
    /// that is shorter, so a short `drain_timeout` alone stays valid.
    mutating func checkDrainSpread() {
        guard let token = drainSpreadToken else {
            limits.drainSpread = min(Self.defaultDrainSpread, limits.drainTimeout / 2)
            return
        }
        guard limits.drainSpread >= limits.drainTimeout else { return }
        report("drain_spread \(ConfigValue.formatDuration(limits.drainSpread)) must be shorter than drain_timeout "
            + "\(ConfigValue.formatDuration(limits.drainTimeout)): the last streams would get no time to end; "
            + "shorten it (0s ends every stream at once) or lengthen drain_timeout", at: token)
    }
}
