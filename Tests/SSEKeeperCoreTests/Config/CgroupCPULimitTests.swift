import Testing
@testable import SSEKeeperCore

/// `CgroupCPULimit`: the CPU quota `event_loops auto` fits its loops to, read from texts as the kernel writes them
/// (cgroups(7), proc(5) "mountinfo").
struct CgroupCPULimitTests {
    // A systemd host on cgroup v2 only, and a Docker container with its own cgroup namespace.
    static let v2MountInfo = """
        24 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate

        """
    // The mixed layout of this project's own machines: v1 controllers, each in its own mount, beside an empty v2.
    static let hybridMountInfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

        """

    static func files(_ files: [String: String]) -> (String) -> String? { { files[$0] } }

    @Test func v2_readsCpuMaxOfTheProcessCgroup() {
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "0::/system.slice/ssekeeper.service\n",
            "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/system.slice/ssekeeper.service/cpu.max": "250000 100000\n",
            "/sys/fs/cgroup/system.slice/cpu.max": "max 100000\n",
        ]))
        #expect(limit == CgroupCPULimit(cpus: 2.5, source: "/sys/fs/cgroup/system.slice/ssekeeper.service/cpu.max"))
    }

    @Test func v2_aTighterAncestor_isTheLimit() {
        // The kernel enforces every level; the leaf alone would miss this (golang/go#81180).
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "0::/pods/a/leaf\n",
            "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/pods/a/leaf/cpu.max": "max 100000\n",
            "/sys/fs/cgroup/pods/a/cpu.max": "400000 100000\n",
            "/sys/fs/cgroup/pods/cpu.max": "150000 100000\n",
        ]))
        #expect(limit == CgroupCPULimit(cpus: 1.5, source: "/sys/fs/cgroup/pods/cpu.max"))
    }

    @Test func v2_inAContainerNamespace_readsTheMountRoot() {
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "0::/\n",
            "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/cpu.max": "50000 100000\n",
        ]))
        #expect(limit == CgroupCPULimit(cpus: 0.5, source: "/sys/fs/cgroup/cpu.max"))
    }

    @Test func v2_aBindMountedSubtree_isFoundUnderItsRoot() {
        // A container without a cgroup namespace: the host path in /proc/self/cgroup, its own sub-tree mounted.
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "0::/kubepods/burstable/pod1/c1\n",
            "/proc/self/mountinfo": "1 0 0:26 /kubepods/burstable/pod1/c1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
            "/sys/fs/cgroup/cpu.max": "200000 100000\n",
        ]))
        #expect(limit?.cpus == 2)
        #expect(limit?.source == "/sys/fs/cgroup/cpu.max")
    }

    @Test func v1_readsQuotaOverPeriod_inTheCpuHierarchy() {
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "4:memory:/x\n2:cpuacct:/\n1:cpu:/ssk\n0::/\n",
            "/proc/self/mountinfo": Self.hybridMountInfo,
            "/sys/fs/cgroup/cpu/ssk/cpu.cfs_quota_us": "100000\n",
            "/sys/fs/cgroup/cpu/ssk/cpu.cfs_period_us": "100000\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
        ]))
        #expect(limit == CgroupCPULimit(cpus: 1, source: "/sys/fs/cgroup/cpu/ssk/cpu.cfs_quota_us"))
    }

    @Test func v1_aCombinedCpuCpuacctMount_counts() {
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "3:cpu,cpuacct:/docker/abc\n",
            "/proc/self/mountinfo": "7 1 0:3 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "300000",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000",
        ]))
        #expect(limit?.cpus == 3)
    }

    @Test func mountPointsWithEscapedSpaces_areUnescaped() {
        let limit = CgroupCPULimit.find(read: Self.files([
            "/proc/self/cgroup": "0::/a\n",
            "/proc/self/mountinfo": "1 0 0:26 / /mnt/my\\040cgroups rw - cgroup2 none rw\n",
            "/mnt/my cgroups/a/cpu.max": "100000 100000",
        ]))
        #expect(limit?.source == "/mnt/my cgroups/a/cpu.max")
    }

    @Test func noLimit_whenUnlimitedUnreadableOrOutsideTheMount() {
        let unlimited = Self.files([
            "/proc/self/cgroup": "0::/a\n", "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/a/cpu.max": "max 100000\n",
        ])
        #expect(CgroupCPULimit.find(read: unlimited) == nil)
        #expect(CgroupCPULimit.find(read: Self.files([:])) == nil, "no /proc: no limit, no crash")
        let outside = Self.files([
            "/proc/self/cgroup": "0::/../../other\n", "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/../../other/cpu.max": "100000 100000",
        ])
        #expect(CgroupCPULimit.find(read: outside) == nil, "a cgroup outside the namespace is not in the mount")
        let notUnderRoot = Self.files([
            "/proc/self/cgroup": "0::/elsewhere\n",
            "/proc/self/mountinfo": "1 0 0:26 /kubepods /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
            "/sys/fs/cgroup/cpu.max": "100000 100000",
        ])
        #expect(CgroupCPULimit.find(read: notUnderRoot) == nil)
        // `unshare -C` without a cgroup mount of its own, as read on this project's machine: the namespace's root
        // is `/`, the old mount's root `/..`; where the process's cgroup is in that mount cannot be known.
        let unmountedNamespace = Self.files([
            "/proc/self/cgroup": "1:cpu:/\n",
            "/proc/self/mountinfo": "32 31 0:29 /.. /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "100000", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000",
        ])
        #expect(CgroupCPULimit.find(read: unmountedNamespace) == nil)
    }

    @Test(arguments: ["", "max", "max 100000", "0 100000", "-1 100000", "100000 0", "100000", "1 2 3", "a b",
                      "99999999999999999999999 100000", "100000 -5"])
    func v2_aValueThatIsNoLimit_isNil(text: String) {
        #expect(CgroupCPULimit.parseV2(text) == nil)
    }

    @Test func v2_andV1_divideQuotaByPeriod() {
        #expect(CgroupCPULimit.parseV2("150000 100000\n") == 1.5)
        #expect(CgroupCPULimit.parseV2("1000 1000") == 1)
        #expect(CgroupCPULimit.parseV1(quota: "25000\n", period: "100000\n") == 0.25)
        #expect(CgroupCPULimit.parseV1(quota: "-1\n", period: "100000\n") == nil)
        #expect(CgroupCPULimit.parseV1(quota: "", period: "100000") == nil)
    }

    @Test func hostileTexts_neverCrash_andFindNothingWhereThereIsNothing() {
        let texts = ["", "\n\n", ":::", "0::", "0::relative", "::/x", "1 2 3 4 5 6 - cgroup2", "- - - - - - - - - -",
                     "1 0 0:1 / /x rw - cgroup2", "\\777\\0\\", String(repeating: "/", count: 10_000),
                     String(repeating: "a/", count: 5_000), "0::/" + String(repeating: "d/", count: 200)]
        for cgroup in texts {
            for mountInfo in texts + [Self.v2MountInfo] {
                let read = Self.files(["/proc/self/cgroup": cgroup, "/proc/self/mountinfo": mountInfo])
                #expect(CgroupCPULimit.find(read: read) == nil)
            }
        }
    }

    @Test func aDeepCgroup_readsAtMostMaxDepthLevels() {
        var reads = 0
        let path = "/" + Array(repeating: "d", count: 500).joined(separator: "/")
        _ = CgroupCPULimit.find { file in
            if file == "/proc/self/cgroup" { return "0::\(path)\n" }
            if file == "/proc/self/mountinfo" { return Self.v2MountInfo }
            reads += 1
            return nil
        }
        #expect(reads == CgroupCPULimit.maxDepth)
    }
}

/// `event_loops auto` against a cgroup CPU limit, and what the start log says about it.
struct EventLoopCountLimitTests {
    @Test func auto_roundsALimitDown_andRunsAtLeastOneLoop() {
        #expect(EventLoopCount.auto.resolved(availableCPUs: 16, cpuLimit: 2.5) == 2)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 16, cpuLimit: 2) == 2)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 16, cpuLimit: 0.25) == 1)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 4, cpuLimit: 8) == 4, "the affinity mask is tighter")
        #expect(EventLoopCount.auto.resolved(availableCPUs: 4, cpuLimit: nil) == 4)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 4, cpuLimit: .infinity) == 4)
        #expect(EventLoopCount.auto.resolved(availableCPUs: 4, cpuLimit: .nan) == 4)
    }

    @Test func aFixedCount_isKept_evenAboveTheLimit() {
        #expect(EventLoopCount.count(8).resolved(availableCPUs: 16, cpuLimit: 2) == 8)
    }

    @Test func auto_saysWhatTheLimitLowered_andNothingOtherwise() {
        let limit = CgroupCPULimit(cpus: 2.5, source: "/sys/fs/cgroup/x/cpu.max")
        let note = EventLoopCount.auto.limitNote(availableCPUs: 16, cpuLimit: limit)
        #expect(note?.isWarning == false)
        #expect(note?.text == "event_loops auto: 2 event loop(s) for the cgroup CPU limit of 2.5 CPUs "
            + "(/sys/fs/cgroup/x/cpu.max), of 16 CPUs")
        #expect(EventLoopCount.auto.limitNote(availableCPUs: 2, cpuLimit: limit) == nil, "2 CPUs: nothing lowered")
        #expect(EventLoopCount.auto.limitNote(availableCPUs: 16, cpuLimit: nil) == nil)
    }

    @Test func aFixedCountAboveTheLimit_isWarnedAbout() {
        let limit = CgroupCPULimit(cpus: 0.5, source: "/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us")
        let note = EventLoopCount.count(4).limitNote(availableCPUs: 16, cpuLimit: limit)
        #expect(note?.isWarning == true)
        #expect(note?.text.hasPrefix("event_loops 4 is more than the cgroup CPU limit of 0.5 CPUs") == true)
        #expect(note?.text.hasSuffix("event_loops auto would run 1") == true, "\(note?.text ?? "")")
        #expect(EventLoopCount.count(1).limitNote(availableCPUs: 16, cpuLimit: limit) == nil, "1 loop fits 0.5 CPUs")
        #expect(EventLoopCount.count(3).limitNote(
            availableCPUs: 16, cpuLimit: CgroupCPULimit(cpus: 2.5, source: "f")) == nil, "3 is 2.5 rounded up")
        let wide = EventLoopCount.count(16).limitNote(availableCPUs: 8, cpuLimit: CgroupCPULimit(cpus: 10, source: "f"))
        #expect(wide?.text.hasSuffix("event_loops auto would run 8") == true, "auto keeps to the 8 CPUs of the mask")
    }
}
