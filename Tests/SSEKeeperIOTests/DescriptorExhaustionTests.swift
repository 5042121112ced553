import Foundation
import Glibc
import Testing

/// The real binary under a low `ulimit -n`: running out of descriptors is logged, accepting backs off, open
/// streams keep flowing, and service recovers once descriptors free up.
@Suite(.serialized)
struct DescriptorExhaustionTests {
    @Test func runningOutOfDescriptors_keepsOpenStreamsFlowing_andRecovers() throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            var index = 0
            while true {
                try connection.send(chunk("data: \(index)\n\n"))
                index += 1
                usleep(50_000)
            }
        }
        let port = closedPort()
        let config = try CommandLineTests.temporaryFile("""
            listen 127.0.0.1:\(port);
            upstream app { server 127.0.0.1:\(upstream.port); }
            route / { upstream app; }
            """)
        let logPath = config + ".log"
        defer { unlink(config); unlink(logPath) }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n 40 && exec \"$0\" run -c \"$1\" 2>\"$2\"", CommandLineTests.binary.path, config, logPath]
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        func openStream() throws -> TestSocket {
            let socket = try TestSocket.connect(port: port)
            try socket.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
            return socket
        }
        var first: TestSocket?
        for _ in 0..<100 where first == nil {
            first = try? openStream()
            if first == nil { usleep(50_000) }
        }
        let stream = try #require(first)
        #expect(try ReceivedHead.read(from: stream).status == 200)

        // Far more streams than 40 descriptors allow (each takes two): the upstream connect fails, they get 502.
        var crowd: [TestSocket] = []
        for _ in 0..<20 { crowd.append(try openStream()) }
        // Idle connections hold a descriptor each until client_header_timeout: accept itself runs out.
        for _ in 0..<40 { crowd.append(try TestSocket.connect(port: port)) }
        usleep(300_000)
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("socket for 127.0.0.1:\(upstream.port): Too many open files"), "connect side: \(log.suffix(800))")
        #expect(log.contains("Too many open files; pausing accepts for 100ms"), "accept side: \(log.suffix(800))")

        // The first stream still flows.
        stream.setReceiveTimeout(seconds: 2)
        var flowing: [UInt8] = []
        for _ in 0..<5 { flowing += try stream.receiveSome() }
        #expect(String(decoding: flowing, as: UTF8.self).contains("data: "))

        // Free the descriptors: a new stream is served again.
        for socket in crowd { socket.close() }
        usleep(500_000)
        let later = try openStream()
        later.setReceiveTimeout(seconds: 5)
        let head = try ReceivedHead.read(from: later)
        #expect(head.status == 200, "service recovered: \(head.statusLine)")
        #expect(process.isRunning)
    }
}
