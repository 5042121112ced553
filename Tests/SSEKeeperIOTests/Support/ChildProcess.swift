import Foundation
import Glibc

/// A child process for the tests, started with `posix_spawn`: the part of Foundation's `Process` the tests use
/// (same names), without its `run()`. On Linux, swift-corelibs-foundation's `Process.run()` (Swift 6.3.1) reads past
/// a `readdir` buffer while listing `/proc/self/fd` and crashes the whole test process now and then with SIGSEGV
/// (swiftlang/swift-corelibs-foundation#5472; it crashed CI here in `CommandLineTests.run`).
///
/// The child gets the parent's environment and standard input; standard output and error go to a `Pipe` (the
/// parent's copy of its write end is closed once the child has it, so a reader sees the end), a `FileHandle`, or
/// stay the parent's; every other descriptor is closed in the child (`posix_spawn_file_actions_addclosefrom_np`),
/// so a child never holds another test's pipe open.
final class ChildProcess: @unchecked Sendable {
    /// Why a child ended, as Foundation's `Process.TerminationReason`.
    enum TerminationReason: Equatable {
        case exit
        case uncaughtSignal
    }

    var executableURL: URL?
    var arguments: [String]?
    /// A `Pipe`, a `FileHandle`, or nil (the parent's).
    var standardOutput: Any?
    var standardError: Any?

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var waitStatus: Int32?

    /// The child's process identifier (0 before `run`).
    var processIdentifier: Int32 { lock.withLock { pid } }

    /// Starts the child. Throws when it cannot be spawned.
    func run() throws {
        guard let path = executableURL?.path else { throw TestError("ChildProcess: no executableURL") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, output) in [(Int32(1), standardOutput), (2, standardError)] {
            if let handle = output as? FileHandle, handle === FileHandle.nullDevice {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            } else if let descriptor = Self.descriptor(of: output) {
                posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        guard Self.addCloseFrom(&actions, 3) == 0 else { throw TestError("ChildProcess: closefrom action failed") }
        let argv = ([path] + (arguments ?? [])).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, nil, argv, environ)
        guard status == 0 else { throw TestError("ChildProcess: posix_spawn \(path): \(String(cString: strerror(status)))") }
        lock.withLock { pid = child }
        // The child has its own copy of each pipe's write end now: the parent's must go for the reader to see EOF.
        for output in [standardOutput, standardError] {
            if let pipe = output as? Pipe { try? pipe.fileHandleForWriting.close() }
        }
    }

    /// Whether the child has not exited yet (reaps it when it has).
    var isRunning: Bool {
        lock.withLock {
            guard pid != 0, waitStatus == nil else { return false }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { waitStatus = status }
            return reaped == 0
        }
    }

    /// Waits for the child to exit.
    func waitUntilExit() {
        let child = lock.withLock { waitStatus == nil ? pid : 0 }
        guard child != 0 else { return }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        lock.withLock { if waitStatus == nil { waitStatus = status } }
    }

    /// The exit status, or the signal that ended the child (as Foundation reports it).
    var terminationStatus: Int32 {
        let status = lock.withLock { waitStatus } ?? 0
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
    }

    var terminationReason: TerminationReason {
        let status = lock.withLock { waitStatus } ?? 0
        return status & 0x7F == 0 ? .exit : .uncaughtSignal
    }

    /// Sends SIGTERM.
    func terminate() {
        let child = processIdentifier
        if child != 0 { kill(child, SIGTERM) }
    }

    private static func descriptor(of output: Any?) -> Int32? {
        if let pipe = output as? Pipe { return pipe.fileHandleForWriting.fileDescriptor }
        if let handle = output as? FileHandle { return handle.fileDescriptor }
        return nil
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not export.
    private static let addCloseFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc 2.34 or later is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
}
