import CEpoll
import Foundation
import Glibc
import Testing

/// `event_loops auto` inside a real cgroup with a CPU quota, as `docker run --cpus` or a Kubernetes CPU limit sets
/// one: the binary joins the cgroup before it starts (a shell writes its pid into `cgroup.procs`, then execs it),
/// so it reads its own `/proc/self/cgroup` and the kernel's limit files. cgroup v1's `cpu` hierarchy where it is
/// mounted (this project's machines), else cgroup v2 with the `cpu` controller. Needs root; in CI (`CI` set) the
/// suite always runs, so a machine where no such cgroup can be made fails.
@Suite(.serialized, .enabled(if: QuotaCgroup.canCreate || TLSTestEnvironment.isCI, "needs root and a cpu cgroup"))
struct CgroupLoopCountTests {
    /// Starts `ssekeeper run` in `cgroup` with `config` and returns its log once it listens (or throws).
    static func startLog(in cgroup: QuotaCgroup, config: String) throws -> String {
        let configPath = try CommandLineTests.temporaryFile(config)
        let logPath = NSTemporaryDirectory() + "ssekeeper-cgroup-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { unlink(configPath); unlink(logPath) }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "echo $$ > \"$1\" && exec \"$2\" run -c \"$3\"", "sh",
                             cgroup.procsFile, CommandLineTests.binary.path, configPath]
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        for _ in 0..<200 {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if log.contains("listening on") { return log }
            if !process.isRunning { throw TestError("ssekeeper exited: \(log)") }
            usleep(25_000)
        }
        throw TestError("ssekeeper never said it listens")
    }

    static func config(_ extra: String = "") -> String {
        "listen 127.0.0.1:\(closedPort());\nupstream a { server 127.0.0.1:9; }\nroute / { upstream a; }\n\(extra)"
    }

    /// The CPUs in this process's affinity mask (the child inherits it), as the binary counts them.
    static var affinityCPUs: Int { max(1, Int(ssk_affinity_cpu_count())) }

    @Test func auto_runsOneLoopPerWholeCPUOfTheQuota() throws {
        let cgroup = try #require(QuotaCgroup(cpus: 1.5))
        let log = try Self.startLog(in: cgroup, config: Self.config())
        #expect(log.contains(", 1 event loop(s))"), "\(log)")
        if Self.affinityCPUs >= 2 {
            #expect(log.contains("event_loops auto: 1 event loop(s) for the cgroup CPU limit of 1.5 CPUs (\(cgroup.limitFile)), of \(Self.affinityCPUs) CPUs"), "\(log)")
        }
    }

    @Test func auto_withoutAQuota_runsOneLoopPerCPU_andSaysNothing() throws {
        let cgroup = try #require(QuotaCgroup(cpus: nil))
        let log = try Self.startLog(in: cgroup, config: Self.config())
        #expect(log.contains(", \(min(Self.affinityCPUs, 256)) event loop(s))"), "\(log)")
        #expect(!log.contains("cgroup CPU limit"), "\(log)")
    }

    @Test func aFixedCountAboveTheQuota_isKept_withAWarning() throws {
        let cgroup = try #require(QuotaCgroup(cpus: 0.5))
        let log = try Self.startLog(in: cgroup, config: Self.config("event_loops 2;\n"))
        #expect(log.contains(", 2 event loop(s))"), "\(log)")
        #expect(log.contains("event_loops 2 is more than the cgroup CPU limit of 0.5 CPUs (\(cgroup.limitFile))"), "\(log)")
        #expect(log.contains("event_loops auto would run 1"), "\(log)")
    }
}

/// A fresh cgroup, with a CPU quota or none, for one test; removed when released (its processes gone by then).
final class QuotaCgroup {
    let directory: String
    let procsFile: String
    /// The file the limit is written to, as the start log names it.
    let limitFile: String

    /// Whether this machine lets the tests make one (root, a cpu hierarchy mounted read-write).
    static let canCreate: Bool = QuotaCgroup(cpus: nil) != nil

    init?(cpus: Double?) {
        let period = 100_000
        let quota = cpus.map { Int($0 * Double(period)) }
        let name = "ssekeeper-test-\(UUID().uuidString.prefix(8))"
        if let mount = Self.mountPoint(type: "cgroup", superOption: "cpu") {
            directory = mount + "/" + name
            limitFile = directory + "/cpu.cfs_quota_us"
            guard mkdir(directory, 0o755) == 0 else { return nil }
            guard Self.write(String(period), to: directory + "/cpu.cfs_period_us"),
                  Self.write(String(quota ?? -1), to: limitFile) else { rmdir(directory); return nil }
        } else if let mount = Self.mountPoint(type: "cgroup2", superOption: nil),
                  Self.read(mount + "/cgroup.controllers")?.split(separator: " ").contains(where: { $0.hasPrefix("cpu") }) == true {
            _ = Self.write("+cpu", to: mount + "/cgroup.subtree_control")
            directory = mount + "/" + name
            limitFile = directory + "/cpu.max"
            guard mkdir(directory, 0o755) == 0 else { return nil }
            guard Self.write((quota.map(String.init) ?? "max") + " \(period)", to: limitFile) else {
                rmdir(directory)
                return nil
            }
        } else {
            return nil
        }
        procsFile = directory + "/cgroup.procs"
    }

    deinit {
        // The test's process has exited; the kernel may take a moment to let the cgroup go.
        for _ in 0..<100 where rmdir(directory) != 0 && errno == EBUSY { usleep(10_000) }
    }

    /// The mount point of the first cgroup mount of `type` whose super options hold `superOption` (any when nil).
    static func mountPoint(type: String, superOption: String?) -> String? {
        for line in (read("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count, fields[dash + 1] == type,
                  fields[3] == "/" else { continue }
            if let superOption, !fields[dash + 3].split(separator: ",").contains(Substring(superOption)) { continue }
            return String(fields[4])
        }
        return nil
    }

    static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
