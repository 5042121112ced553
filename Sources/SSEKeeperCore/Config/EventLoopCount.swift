/// How many event loops the proxy runs (`event_loops auto|N;`).
public enum EventLoopCount: Sendable, Equatable {
    /// One per CPU in the process's affinity mask (so `taskset` and a container's CPU set are honoured), and no
    /// more than its cgroup CPU limit (`CgroupCPULimit`) lets run at once.
    case auto
    /// Exactly this many (1...`maximum`).
    case count(Int)

    /// The most loops a config may ask for.
    public static let maximum = 256

    /// The number of loops for a process that may run on `availableCPUs` CPUs (at least 1) with `cpuLimit` CPUs'
    /// worth of run time (nil: no limit).
    ///
    /// `auto` rounds a limit down (2.5 CPUs: 2 loops, 0.5: 1): loops that are all busy at once then stay within
    /// the quota, where one loop more would let a burst spend the period's quota early and stall every loop until
    /// the next period (CFS throttling, up to the rest of a 100 ms period: a latency spike on every stream). The
    /// fraction left over serves the process's other threads. uber-go/automaxprocs rounds the same way.
    public func resolved(availableCPUs: Int, cpuLimit: Double? = nil) -> Int {
        switch self {
        case .auto:
            var count = min(availableCPUs, Self.maximum)
            if let cpuLimit, cpuLimit.isFinite, cpuLimit < Double(count) { count = Int(cpuLimit.rounded(.down)) }
            return max(1, count)
        case .count(let count):
            return count
        }
    }

    /// A line for the start log about the count and a cgroup CPU limit.
    public struct Note: Sendable, Equatable {
        /// A warning (a fixed count the limit will throttle) rather than information.
        public let isWarning: Bool
        public let text: String
    }

    /// What to log at start when a cgroup CPU limit bears on the count (nil when there is none, or it changes
    /// nothing): for `auto`, the count it lowered; for a fixed count above it, a warning that the loops will be
    /// throttled.
    public func limitNote(availableCPUs: Int, cpuLimit: CgroupCPULimit?) -> Note? {
        guard let cpuLimit else { return nil }
        let count = resolved(availableCPUs: availableCPUs, cpuLimit: cpuLimit.cpus)
        let cpus = Self.format(cpuLimit.cpus)
        let limit = "the cgroup CPU limit of \(cpus) CPU\(cpus == "1" ? "" : "s") (\(cpuLimit.source))"
        switch self {
        case .auto:
            guard count < resolved(availableCPUs: availableCPUs) else { return nil }
            return Note(isWarning: false,
                        text: "event_loops auto: \(count) event loop(s) for \(limit), of \(availableCPUs) CPUs")
        case .count(let fixed):
            guard Double(fixed) > cpuLimit.cpus.rounded(.up) else { return nil }
            let fitting = Self.auto.resolved(availableCPUs: availableCPUs, cpuLimit: cpuLimit.cpus)
            return Note(isWarning: true, text: "event_loops \(fixed) is more than \(limit) allows to run at once: when "
                + "all are busy the kernel throttles them, stalling every stream until its next period; "
                + "event_loops auto would run \(fitting)")
        }
    }

    /// CPUs as a short decimal: 2, 2.5, 0.25.
    private static func format(_ cpus: Double) -> String {
        let hundredths = (cpus * 100).rounded()
        if hundredths.truncatingRemainder(dividingBy: 100) == 0 { return String(Int(hundredths / 100)) }
        return String(hundredths / 100)
    }

    /// As written in the config.
    public var text: String {
        switch self {
        case .auto: "auto"
        case .count(let count): String(count)
        }
    }
}
