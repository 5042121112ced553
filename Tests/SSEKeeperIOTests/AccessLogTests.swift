import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `access_log` and `log_format` over real sockets: one record per finished request, where and how the config
/// says; SIGUSR1 reopens the file for logrotate (checked on the real binary).
@Suite(.serialized)
struct AccessLogTests {
    static func okUpstream() throws -> TestUpstream {
        try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
    }

    static func temporaryLogPath() -> String {
        NSTemporaryDirectory() + "ssekeeper-access-\(UUID().uuidString).log"
    }

    /// One `Connection: close` request through `proxy`; returns the response.
    static func request(_ proxy: ProxyHarness, _ path: String = "/hello") throws -> String {
        let client = try proxy.client()
        try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return String(decoding: try client.receiveAll(), as: UTF8.self)
    }

    /// Waits up to 5 s for `path` to hold `count` lines; returns them.
    static func lines(in path: String, count: Int) -> [String] {
        let deadline = Date().addingTimeInterval(5)
        var lines: [String] = []
        repeat {
            lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.count >= count { break }
            usleep(20_000)
        } while Date() < deadline
        return lines
    }

    @Test func aFile_getsTextRecords_andTheProcessLogNone() throws {
        let upstream = try Self.okUpstream()
        let path = Self.temporaryLogPath()
        defer { unlink(path) }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, observe: ObserveSettings(accessLog: .file(path)))
        #expect(try Self.request(proxy).hasSuffix("ok"))
        let lines = Self.lines(in: path, count: 1)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info access client=127\.0\.0\.1:\d+ method=GET path=/hello status=200 bytes=\d+ duration=\d+\.\d{3}s heartbeats=0 skipped=0 end=completed route=/ upstream=127\.0\.0\.1:\#(upstream.port)$"#, options: .regularExpression) != nil, "\(line)")
        usleep(100_000)
        #expect(!proxy.log.contains(" access "), "records go to the file only: \(proxy.log)")
        #expect(proxy.log.contains("listening on"), "other lines stay in the process log")
    }

    @Test func aFile_getsJSONRecords_oneObjectPerLine() throws {
        let upstream = try Self.okUpstream()
        let path = Self.temporaryLogPath()
        defer { unlink(path) }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, observe: ObserveSettings(accessLog: .file(path), logFormat: .json))
        _ = try Self.request(proxy, "/a%22b?q=1")
        let rejected = try proxy.client()
        try rejected.send("GET / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n")
        _ = try rejected.receiveAll()
        let lines = Self.lines(in: path, count: 2)
        #expect(lines.count == 2)
        let records = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let ok = try #require(records.first { $0["status"] as? Int == 200 })
        #expect(ok["method"] as? String == "GET")
        #expect(ok["path"] as? String == "/a%22b")
        #expect(ok["route"] as? String == "/")
        #expect(ok["end"] as? String == "completed")
        #expect(ok["upstream"] as? String == "127.0.0.1:\(upstream.port)")
        #expect(ok["upstream_quiet_max_s"] is NSNull)
        #expect((ok["time"] as? String)?.hasSuffix("Z") == true)
        #expect(ok["duration_s"] is NSNumber)
        let bad = try #require(records.first { $0["status"] as? Int == 400 })
        #expect(bad["route"] is NSNull)
        #expect(bad["end"] as? String == "rejected")
        #expect((bad["reason"] as? String)?.isEmpty == false)
    }

    @Test func stderrJSON_putsBareObjectsAmongTheLogLines() throws {
        let upstream = try Self.okUpstream()
        let proxy = try ProxyHarness(upstreamPort: upstream.port, observe: ObserveSettings(accessLog: .stderr, logFormat: .json))
        _ = try Self.request(proxy)
        let line = try #require(proxy.waitForLogLine(containing: ["\"path\":\"/hello\""]))
        let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(record["status"] as? Int == 200)
    }

    @Test func off_writesNoRecord_butTheMetricsStillCount() throws {
        let upstream = try Self.okUpstream()
        var observe = loopbackAdmin
        observe.accessLog = .off
        let proxy = try ProxyHarness(upstreamPort: upstream.port, observe: observe)
        _ = try Self.request(proxy)
        let metrics = try proxy.scrape { $0.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 1 }
        #expect(metrics.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 1)
        #expect(!proxy.log.contains("access"), "\(proxy.log)")
    }

    @Test func anAccessLogThatCannotBeOpened_failsTheStart() {
        var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: 0)])
        config.observe.accessLog = .file("/nonexistent-\(UUID().uuidString)/access.log")
        #expect(throws: SocketError.self) { try ProxyServer(config: config, logger: Logger(fd: -1)) }
    }

    @Test func aStreamOpenedBeforeAReload_writesItsRecordToTheCurrentFile_evenAfterItIsReopened() throws {
        let backend = try DrainAndReloadTests.FeedUpstream(first: "data: hi\n\n")
        let before = Self.temporaryLogPath(), after = Self.temporaryLogPath()
        let rotated = after + ".1"
        defer { unlink(before); unlink(after); unlink(rotated) }
        let proxy = try ProxyHarness(upstreamPort: backend.upstream.port, observe: ObserveSettings(accessLog: .file(before)))
        let stream = try proxy.client()
        try stream.send(DrainAndReloadTests.sseRequest("/old-stream"))
        var reader = ChunkedReader(initial: try ReceivedHead.read(from: stream).rest)
        _ = try reader.nextChunk(from: stream)

        var next = proxy.server.config
        next.observe.accessLog = .file(after)
        try proxy.server.reload(config: next)
        // logrotate renames the current file and sends SIGUSR1; the stream from before the reload ends after it.
        #expect(rename(after, rotated) == 0)
        proxy.server.reopenLogs()
        stream.close()
        let fresh = Self.lines(in: after, count: 1)
        #expect(fresh.count == 1 && fresh[0].contains("path=/old-stream") && fresh[0].contains("end=client_closed"), "\(fresh)")
        let old = (try? String(contentsOfFile: before, encoding: .utf8)) ?? ""
        #expect(old.isEmpty, "nothing goes to the file of before the reload: \(old)")
    }

    @Test func sigusr1_reopensTheFile_soRecordsFollowLogrotate() throws {
        let upstream = try Self.okUpstream()
        let listenPort = closedPort(), adminPort = closedPort()
        let path = Self.temporaryLogPath()
        let rotated = path + ".1"
        defer { unlink(path); unlink(rotated) }
        let config = try CommandLineTests.temporaryFile("""
            listen 127.0.0.1:\(listenPort);
            admin_listen 127.0.0.1:\(adminPort);
            access_log \(path);
            log_format json;
            upstream app { server 127.0.0.1:\(upstream.port); }
            route / { upstream app; }
            """)
        defer { unlink(config) }
        let process = ChildProcess()
        process.executableURL = CommandLineTests.binary
        process.arguments = ["run", "-c", config]
        let err = Pipe()
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        func get(_ target: String) throws -> String {
            let client = try TestSocket.connect(port: listenPort)
            try client.send("GET \(target) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            return String(decoding: try client.receiveAll(), as: UTF8.self)
        }
        var healthy: AdminResponse?
        for _ in 0..<100 where healthy == nil {
            healthy = try? AdminResponse.get("/healthz", port: adminPort)
            if healthy == nil { usleep(50_000) }
        }
        #expect(healthy?.status == 200, "the binary's admin endpoint answers")
        #expect(try get("/before").hasSuffix("ok"))
        #expect(Self.lines(in: path, count: 1).count == 1)

        // What logrotate does: rename the file, then signal the process.
        #expect(rename(path, rotated) == 0)
        kill(process.processIdentifier, SIGUSR1)
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: path), "SIGUSR1 made a new file")
        #expect(try get("/after").hasSuffix("ok"))

        let fresh = Self.lines(in: path, count: 1)
        #expect(fresh.count == 1)
        #expect(fresh.first?.contains("\"path\":\"/after\"") == true, "\(fresh)")
        let old = Self.lines(in: rotated, count: 1)
        #expect(old.count == 1)
        #expect(old.first?.contains("\"path\":\"/before\"") == true, "\(old)")
        let metrics = try AdminResponse.scrape(port: adminPort)
        #expect(metrics.value("ssekeeper_requests_total", ["route": "/", "code": "2xx"]) == 2)

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("reopened access_log \(path)"), "\(log)")
        #expect(log.contains("admin endpoint on 127.0.0.1:\(adminPort)"))
        #expect(!log.contains("\"path\""), "records went to the file, not stderr")
    }
}
