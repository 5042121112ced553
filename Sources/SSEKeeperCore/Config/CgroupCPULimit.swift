/// The CPU bandwidth the process's cgroups allow it: cgroup v2's `cpu.max`, or v1's `cpu.cfs_quota_us` over
/// `cpu.cfs_period_us`, the tightest of the process's cgroup and every ancestor visible in the mount. This is what
/// `docker run --cpus 2`, a Kubernetes CPU limit or systemd's `CPUQuota=` set; `event_loops auto` runs no more
/// loops than it allows (`EventLoopCount.resolved(availableCPUs:cpuLimit:)`).
///
/// Pure: the files are read through `read` (path in, text out, nil when absent or unreadable), so tests pass
/// their texts; the shell passes a reader of the real files. Anything it cannot make sense of (no cgroup line,
/// a path outside its mount, a malformed limit) counts as no limit from that place: the count then stays the
/// CPUs of the affinity mask, as before.
public struct CgroupCPULimit: Sendable, Equatable {
    /// CPUs' worth of run time per period: quota / period (2.5 for `250000 100000`).
    public let cpus: Double
    /// The file that sets the tightest limit.
    public let source: String

    /// The process's cgroup memberships (one line per hierarchy: `ID:CONTROLLERS:PATH`).
    public static let cgroupFile = "/proc/self/cgroup"
    /// The process's mounts, to find where each hierarchy is mounted (proc(5), "/proc/pid/mountinfo").
    public static let mountInfoFile = "/proc/self/mountinfo"
    /// Ancestors read at most, from the process's cgroup upwards (the kernel nests far fewer in practice).
    public static let maxDepth = 64

    /// The tightest CPU limit on the process, or nil when neither hierarchy sets one.
    public static func find(read: (String) -> String?) -> CgroupCPULimit? {
        guard let memberships = read(cgroupFile), let mountInfo = read(mountInfoFile) else { return nil }
        let mounts = Mount.parse(mountInfo: mountInfo)
        var tightest: CgroupCPULimit?
        for membership in Membership.parse(memberships) {
            let version: Version
            if membership.hierarchy == "0" && membership.controllers.isEmpty {
                version = .v2
            } else if membership.controllers.split(separator: ",").contains("cpu") {
                version = .v1
            } else {
                continue
            }
            for mount in mounts where mount.serves(version) {
                guard let directory = mount.directory(of: membership.path) else { continue }
                tightest = tighter(tightestLimit(from: directory, upTo: mount.point, version: version, read: read),
                                   than: tightest)
            }
        }
        return tightest
    }

    /// cgroup v2's `cpu.max` text (`QUOTA PERIOD`, or `max PERIOD` for none) as CPUs, or nil.
    public static func parseV2(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, fields[0] != "max" else { return nil }
        return ratio(quota: fields[0], period: fields[1])
    }

    /// cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` texts as CPUs, or nil (a quota of -1 is none).
    public static func parseV1(quota: String, period: String) -> Double? {
        ratio(quota: quota.split(separator: "\n").first ?? "", period: period.split(separator: "\n").first ?? "")
    }

    /// quota / period for two decimal microsecond counts, both above zero (the kernel's own bounds are 1 ms to
    /// 1 s for the period); nil for anything else, `-1` and `max` included.
    private static func ratio(quota: Substring, period: Substring) -> Double? {
        guard let quota = Int(quota), let period = Int(period), quota > 0, period > 0 else { return nil }
        return Double(quota) / Double(period)
    }

    /// The lower of two limits, where nil is none; the one already held when they are equal.
    private static func tighter(_ limit: CgroupCPULimit?, than held: CgroupCPULimit?) -> CgroupCPULimit? {
        guard let limit, let held else { return limit ?? held }
        return limit.cpus < held.cpus ? limit : held
    }

    private enum Version {
        case v1, v2
    }

    /// The limit of `directory` and each parent up to the mount point, the lowest first found kept.
    private static func tightestLimit(from directory: String, upTo top: String, version: Version,
                                      read: (String) -> String?) -> CgroupCPULimit? {
        var tightest: CgroupCPULimit?
        var current = directory
        for _ in 0..<maxDepth {
            tightest = tighter(limit(in: current, version: version, read: read), than: tightest)
            guard current != top, let slash = current.utf8.lastIndex(of: UInt8(ascii: "/")) else { break }
            current = String(current[..<slash])
            if current.utf8.count < top.utf8.count { break }
        }
        return tightest
    }

    private static func limit(in directory: String, version: Version, read: (String) -> String?) -> CgroupCPULimit? {
        switch version {
        case .v2:
            let file = directory + "/cpu.max"
            return read(file).flatMap(parseV2).map { CgroupCPULimit(cpus: $0, source: file) }
        case .v1:
            let file = directory + "/cpu.cfs_quota_us"
            guard let quota = read(file), let period = read(directory + "/cpu.cfs_period_us") else { return nil }
            return parseV1(quota: quota, period: period).map { CgroupCPULimit(cpus: $0, source: file) }
        }
    }

    /// One line of `/proc/self/cgroup`.
    private struct Membership {
        let hierarchy: Substring
        let controllers: Substring
        let path: Substring

        static func parse(_ text: String) -> [Membership] {
            text.split(separator: "\n").compactMap { line in
                // The path may itself hold colons: split at the first two only.
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3, fields[2].utf8.first == UInt8(ascii: "/") else { return nil }
                return Membership(hierarchy: fields[0], controllers: fields[1], path: fields[2])
            }
        }
    }

    /// One cgroup mount from `/proc/self/mountinfo`: `ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE
    /// SUPER-OPTIONS`.
    private struct Mount {
        /// The directory of the hierarchy that is mounted (`/` unless a sub-tree is bind-mounted).
        let root: String
        let point: String
        let isV2: Bool
        let hasCPUController: Bool

        static func parse(mountInfo: String) -> [Mount] {
            mountInfo.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 3 < fields.count
                else { return nil }
                let type = fields[dash + 1]
                guard type == "cgroup" || type == "cgroup2" else { return nil }
                return Mount(
                    root: unescape(fields[3]), point: unescape(fields[4]), isV2: type == "cgroup2",
                    hasCPUController: fields[dash + 3].split(separator: ",").contains("cpu"))
            }
        }

        func serves(_ version: Version) -> Bool {
            switch version {
            case .v2: isV2
            case .v1: !isV2 && hasCPUController
            }
        }

        /// Where the cgroup at `path` (as `/proc/self/cgroup` names it) is in this mount, or nil when the mount
        /// does not show it.
        func directory(of path: Substring) -> String? {
            // A cgroup outside the reader's cgroup namespace shows as `/../..`: not in any mount it sees.
            guard !path.split(separator: "/").contains("..") else { return nil }
            let base = point == "/" ? "" : point
            if root == "/" { return path == "/" ? point : base + path }
            guard path == root || path.hasPrefix(root + "/") else { return nil }
            let rest = path.dropFirst(root.count)
            return rest.isEmpty ? point : base + rest
        }

        /// mountinfo writes space, tab, newline and backslash in paths as `\OOO` octal escapes.
        static func unescape(_ field: Substring) -> String {
            guard field.utf8.contains(UInt8(ascii: "\\")) else { return String(field) }
            var bytes: [UInt8] = []
            var utf8 = field.utf8[...]
            while let byte = utf8.popFirst() {
                let digits = Array(utf8.prefix(3))
                if byte == UInt8(ascii: "\\"), digits.count == 3,
                   digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) {
                    let value = digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
                    if value <= 255 {
                        bytes.append(UInt8(value))
                        utf8 = utf8.dropFirst(3)
                        continue
                    }
                }
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
