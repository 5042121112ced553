import Dispatch
import Glibc

/// Turns signals (SIGINT and SIGTERM by default; SIGHUP, SIGUSR1 when asked) into a call on a queue (instead of the default abrupt death), so the process can
/// close its listeners and exit 0. Keep the watcher alive as long as the process runs.
public final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    /// Starts watching `signals`; `handler` gets the signal number, on `queue`.
    public init(signals: [Int32] = [SIGINT, SIGTERM], queue: DispatchQueue = .main, handler: @escaping @Sendable (Int32) -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.activate()
            sources.append(source)
        }
    }
}
