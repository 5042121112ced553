import Foundation
import Glibc

/// The real SSE backend of `Fixtures/sse_backend.py`, run with `python3`: started, killed with SIGKILL and
/// restarted on the same port, as a crashing and redeployed backend would be.
final class PythonSSEBackend: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sse_backend.py").path

    private var process: ChildProcess?
    private(set) var port: UInt16 = 0
    private let stderrPath = NSTemporaryDirectory() + "sse-backend-\(UUID().uuidString).log"

    /// Starts the backend on a free port with `arguments` (see the script's options).
    init(_ arguments: [String] = []) throws {
        try start(port: 0, arguments)
    }

    /// Starts a backend process on `port` (0: any) and waits until it listens.
    func start(port requested: UInt16, _ arguments: [String]) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--port", String(requested)] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        if !FileManager.default.fileExists(atPath: stderrPath) {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        }
        let errorHandle = FileHandle(forWritingAtPath: stderrPath)!
        _ = try? errorHandle.seekToEnd()
        process.standardError = errorHandle
        try process.run()
        self.process = process
        var line = Data()
        let deadline = Date().addingTimeInterval(10)
        while !line.contains(0x0A) {
            let some = stdout.fileHandleForReading.availableData
            if some.isEmpty || Date() > deadline { throw TestError("sse_backend.py did not start: \(requestLog)") }
            line += some
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let value = text.split(separator: "\n").first?.split(separator: " ").last, let bound = UInt16(value) else {
            throw TestError("sse_backend.py said \(text.debugDescription)")
        }
        port = bound
    }

    /// SIGKILL: the process dies at once, the kernel closes its connections.
    func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Starts a new process on the same port.
    func restart(_ arguments: [String] = []) throws {
        try start(port: port, arguments)
    }

    /// What the backend logged: one `request last-event-id=...` line per request.
    var requestLog: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        kill()
        unlink(stderrPath)
    }
}

/// What an SSE client read through the proxy, parsed with LF line ends (the backend's), with arrival times.
struct ObservedStream {
    struct Event: Equatable {
        var id: String
        var data: String
    }

    var events: [Event] = []
    var eventTimes: [Double] = []
    /// Arrival time of each comment line (heartbeats).
    var commentTimes: [Double] = []
    /// Whether the final chunk arrived (the response ended cleanly).
    var ended = false
    /// Data lines seen, complete or not, to check that no partial event reached the client.
    var dataLines: [String] = []
    private var pending = ""
    private var id = ""
    private var data: [String] = []
    private let start = Date()

    var now: Double { Date().timeIntervalSince(start) }

    /// Feeds decoded body bytes.
    mutating func feed(_ bytes: [UInt8]) {
        pending += String(decoding: bytes, as: UTF8.self)
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.isEmpty {
                if !data.isEmpty {
                    events.append(Event(id: id, data: data.joined(separator: "\n")))
                    eventTimes.append(now)
                }
                data = []
            } else if line.hasPrefix(":") {
                commentTimes.append(now)
            } else if line.hasPrefix("id: ") {
                id = String(line.dropFirst(4))
            } else if line.hasPrefix("data: ") {
                data.append(String(line.dropFirst(6)))
                dataLines.append(String(line.dropFirst(6)))
            }
        }
    }

    /// Reads chunks from `socket` until `done` holds or the response ends; throws on the socket's timeout.
    mutating func read(from socket: TestSocket, reader: inout ChunkedReader, until done: (ObservedStream) -> Bool) throws {
        while !done(self) && !ended {
            let data = try reader.nextChunk(from: socket)
            if reader.finished { ended = true } else { feed(data) }
        }
    }

    /// Comments that arrived strictly between two times.
    func comments(between from: Double, and to: Double) -> Int {
        commentTimes.filter { $0 > from && $0 < to }.count
    }
}
