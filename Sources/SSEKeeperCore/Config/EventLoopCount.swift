/// How many event loops the proxy runs (`event_loops auto|N;`).
public enum EventLoopCount: Sendable, Equatable {
    /// One per CPU in the process's affinity mask (so `taskset` and a container's CPU set are honoured).
    case auto
    /// Exactly this many (1...`maximum`).
    case count(Int)

    /// The most loops a config may ask for.
    public static let maximum = 256

    /// The number of loops for a process that may run on `availableCPUs` CPUs (at least 1).
    public func resolved(availableCPUs: Int) -> Int {
        switch self {
        case .auto: max(1, min(availableCPUs, Self.maximum))
        case .count(let count): count
        }
    }

    /// As written in the config.
    public var text: String {
        switch self {
        case .auto: "auto"
        case .count(let count): String(count)
        }
    }
}
