import SSEKeeperCore

/// What a probe run shows while it waits: progress notes as they happen, and (when `onStatus` is set) a status
/// line every `statusInterval`.
public struct ProbeProgress {
    /// Called for every note (a stream opened, survived, dropped).
    public var onNote: (ProbeNote) -> Void
    /// Called with the status line, every `statusInterval`; nil for none.
    public var onStatus: ((String) -> Void)?
    /// How often `onStatus` is called.
    public var statusInterval: Duration

    /// Creates a progress sink.
    public init(onNote: @escaping (ProbeNote) -> Void = { _ in }, onStatus: ((String) -> Void)? = nil,
                statusInterval: Duration = .milliseconds(250)) {
        self.onNote = onNote
        self.onStatus = onStatus
        self.statusInterval = statusInterval
    }
}
