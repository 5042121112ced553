import Foundation
import Glibc
import Testing

/// The `ssekeeper` executable as a user runs it: `check`, `run`, exit codes, and a clean exit on SIGTERM.
@Suite(.serialized)
struct CommandLineTests {
    /// `.build/<config>/ssekeeper`, next to the test bundle.
    static var binary: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("ssekeeper").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("ssekeeper")
    }

    static func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "ssekeeper-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus,
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func check_acceptsTheShippedExample() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../proxy.conf.example").standardized.path
        let result = try Self.run(["check", "-c", example])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(example): ok\n")
    }

    @Test func check_reportsEveryErrorWithFileLineAndColumn_andExits1() throws {
        let path = try Self.temporaryFile("""
            listen 8080;
            idle_timout 60s;
            upstream api { server 127.0.0.1:9000; }
            route /x { upstream nope; }
            heartbeat_fraction 1.5;
            """)
        defer { unlink(path) }
        let result = try Self.run(["check", "-c", path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first?.hasPrefix("\(path):2:1: unknown directive \"idle_timout\"") == true)
        #expect(lines.contains { $0.hasPrefix("\(path):4:21: route \"/x\" names unknown upstream \"nope\"") })
        #expect(lines.contains { $0.hasPrefix("\(path):5:20: heartbeat_fraction must be between 0 and 1") })
    }

    @Test(arguments: ["run", "check", "demo", "probe", "version"])
    func eachCommandsHelp_isPrintedOnStdout_andExits0(command: String) throws {
        let result = try Self.run([command, "--help"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.hasPrefix("usage: ssekeeper \(command)"), "\(result.stdout)")
        #expect(result.stdout.contains("-h, --help"))
        #expect(!result.stdout.contains("unknown option"))
    }

    @Test func check_reportsAMissingFileByName_withoutAPosition() throws {
        let path = NSTemporaryDirectory() + "ssekeeper-missing-\(UUID().uuidString).conf"
        let result = try Self.run(["check", "-c", path])
        #expect(result.status == 1)
        #expect(result.stderr == "ssekeeper: cannot read config file \(path): No such file or directory\n")
    }

    @Test func badArguments_printUsage_andExit2() throws {
        let result = try Self.run(["frobnicate"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown command \"frobnicate\""))
        #expect(result.stderr.contains("usage:"))
    }

    @Test func run_servesUntilSIGTERM_thenExits0() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let port = closedPort()
        let path = try Self.temporaryFile("""
            listen 127.0.0.1:\(port);
            upstream app { server 127.0.0.1:\(upstream.port); }
            route / { upstream app; }
            """)
        defer { unlink(path) }
        let process = ChildProcess()
        process.executableURL = Self.binary
        process.arguments = ["-c", path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        var client: TestSocket?
        for _ in 0..<100 where client == nil {
            client = try? TestSocket.connect(port: port)
            if client == nil { usleep(50_000) }
        }
        let connection = try #require(client, "the proxy never started listening")
        try connection.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let response = String(decoding: try connection.receiveAll(), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.hasSuffix("\r\n\r\nok"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(process.terminationReason == .exit)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("listening on 127.0.0.1:\(port)"))
        #expect(log.contains("method=GET path=/ status=200"))
    }
}
