// Fuzz target: CgroupCPULimit.find (the reader of /proc/self/cgroup, /proc/self/mountinfo and the cgroup limit
// files that `event_loops auto` fits its loops to), parseV2 / parseV1, and EventLoopCount against the limit.
//
// Input: split at NUL bytes into up to four texts: /proc/self/cgroup, /proc/self/mountinfo, the text every
// `cpu.max` and `cpu.cfs_quota_us` reads as, and the text every `cpu.cfs_period_us` reads as. Byte 0 of the input
// (before the split) also sets the CPUs of the affinity mask (1-64) for the loop count.
//
// Checks: a limit found is finite and above zero and names a limit file that `find` read and whose text parses to
// it; `find` reads each file at most once per membership and mount, and never more than maxDepth limit files per
// pair; parseV2 and parseV1 return nothing or a finite ratio above zero; `auto` resolves to 1...CPUs, never more
// than the limit rounded down (but at least 1); a fixed count stays as it is; limitNote never claims a lowered
// count when none was lowered.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    let parts = input.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    func part(_ index: Int) -> String? { index < parts.count ? parts[index] : nil }
    let cpus = Int(input.first ?? 0) % 64 + 1

    var reads: [String: Int] = [:]
    let limit = CgroupCPULimit.find { path in
        reads[path, default: 0] += 1
        switch path {
        case CgroupCPULimit.cgroupFile: return part(0)
        case CgroupCPULimit.mountInfoFile: return part(1)
        default:
            if path.hasSuffix("/cpu.max") || path.hasSuffix("/cpu.cfs_quota_us") { return part(2) }
            if path.hasSuffix("/cpu.cfs_period_us") { return part(3) }
            require(false, "read an unexpected file \(path)")
            return nil
        }
    }
    let memberships = (part(0) ?? "").split(separator: "\n").count
    let mounts = (part(1) ?? "").split(separator: "\n").count
    let limitReads = reads.filter { $0.key.hasSuffix("/cpu.max") || $0.key.hasSuffix("/cpu.cfs_quota_us") }
        .values.reduce(0, +)
    require(limitReads <= memberships * mounts * CgroupCPULimit.maxDepth,
            "\(limitReads) limit files read for \(memberships) memberships and \(mounts) mounts")
    for (path, count) in reads {
        require(count <= max(1, memberships * mounts), "\(path) read \(count) times")
    }

    if let limit {
        require(limit.cpus.isFinite && limit.cpus > 0, "limit \(limit.cpus)")
        require(reads[limit.source] != nil, "the limit's source \(limit.source) was never read")
        let parsed = limit.source.hasSuffix("/cpu.max")
            ? CgroupCPULimit.parseV2(part(2) ?? "")
            : CgroupCPULimit.parseV1(quota: part(2) ?? "", period: part(3) ?? "")
        require(parsed == limit.cpus, "the limit \(limit.cpus) is not what \(limit.source) says (\(String(describing: parsed)))")
    }
    for ratio in [CgroupCPULimit.parseV2(part(2) ?? ""),
                  CgroupCPULimit.parseV1(quota: part(2) ?? "", period: part(3) ?? "")] {
        if let ratio { require(ratio.isFinite && ratio > 0, "ratio \(ratio)") }
    }

    let auto = EventLoopCount.auto.resolved(availableCPUs: cpus, cpuLimit: limit?.cpus)
    require((1...cpus).contains(auto), "auto gave \(auto) loops on \(cpus) CPUs")
    if let limit { require(Double(auto) <= max(1, limit.cpus), "auto gave \(auto) loops for \(limit.cpus) CPUs") }
    require(EventLoopCount.count(7).resolved(availableCPUs: cpus, cpuLimit: limit?.cpus) == 7, "a fixed count moved")
    let note = EventLoopCount.auto.limitNote(availableCPUs: cpus, cpuLimit: limit)
    require((note != nil) == (auto < cpus), "auto's note (\(String(describing: note))) for \(auto) of \(cpus)")
    return 0
}
