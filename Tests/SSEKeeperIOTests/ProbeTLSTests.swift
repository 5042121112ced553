import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `ssekeeper probe https://...` through a TLS-terminating intermediary (Python's `ssl`, with the test-only CA
/// and server certificate in `Tests/Fixtures/tls`) that closes idle connections, in front of a real ssekeeper.
@Suite(.serialized, .enabled(if: TLSTestEnvironment.isAvailable || TLSTestEnvironment.isCI, "needs python3 with ssl, and libssl"))
struct ProbeTLSTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardized
    static let caFile = fixtures.appendingPathComponent("tls/test-ca.pem").path
    static let idleTimeout = 2.5

    /// The TLS terminator, relaying to `targetPort` and closing connections idle for `idleTimeout`.
    final class Terminator {
        let process = ChildProcess()
        let port: UInt16

        init(targetPort: UInt16, idleClose: Double) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", fixtures.appendingPathComponent("tls_terminator.py").path, String(targetPort),
                                 fixtures.appendingPathComponent("tls/test-server.pem").path,
                                 fixtures.appendingPathComponent("tls/test-server-key.pem").path,
                                 "--idle-close", String(idleClose)]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line: [UInt8] = []
            while line.last != UInt8(ascii: "\n") {
                let byte = out.fileHandleForReading.readData(ofLength: 1)
                guard !byte.isEmpty else { throw TestError("the TLS terminator did not start") }
                line += byte
            }
            guard let port = UInt16(String(decoding: line.dropLast(), as: UTF8.self)) else {
                throw TestError("the TLS terminator printed no port")
            }
            self.port = port
        }

        deinit {
            // SIGKILL: a child spawned from a Dispatch worker thread inherits its blocked signal mask, so a
            // SIGTERM would stay pending forever.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func setUp() throws -> (ProxyHarness, TestUpstream, Terminator) {
        let (proxy, upstream) = try ProbeCommandTests.proxy()
        return (proxy, upstream, try Terminator(targetPort: proxy.port, idleClose: idleTimeout))
    }

    static func json(_ stdout: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
    }

    @Test func withTheCAFile_theIdleCloseIsMeasured_andTheCertificateVerified() throws {
        let (proxy, upstream, terminator) = try Self.setUp()
        defer { withExtendedLifetime((proxy, upstream, terminator)) {} }
        let url = "https://127.0.0.1:\(terminator.port)\(ProbeCommandTests.probePath)"
        let result = try CommandLineTests.run(["probe", url, "--max", "10s", "--json", "--cacert", Self.caFile])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.json(result.stdout)
        #expect(object["cut_by"] as? String == "fin", "a TLS close_notify then FIN is a fin")
        let seconds = try #require(object["idle_timeout_s"] as? Double)
        #expect(abs(seconds - Self.idleTimeout) <= Self.idleTimeout * 0.1, "measured \(seconds) s")
        #expect(object["tls_verified"] as? Bool == true)
    }

    @Test func withoutTheCAFile_verificationFails_andSaysHowToFixIt() throws {
        let (proxy, upstream, terminator) = try Self.setUp()
        defer { withExtendedLifetime((proxy, upstream, terminator)) {} }
        let url = "https://127.0.0.1:\(terminator.port)\(ProbeCommandTests.probePath)"
        let result = try CommandLineTests.run(["probe", url, "--json"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ssekeeper probe: TLS handshake with 127.0.0.1:\(terminator.port) failed: "))
        #expect(result.stderr.contains("certificate verify failed (unable to get local issuer certificate)"))
        #expect(result.stderr.contains("--cacert FILE"))
        #expect(try Self.json(result.stdout)["error_kind"] as? String == "tls")
    }

    @Test func insecure_skipsVerification_andSaysSo() throws {
        let (proxy, upstream, terminator) = try Self.setUp()
        defer { withExtendedLifetime((proxy, upstream, terminator)) {} }
        let url = "https://127.0.0.1:\(terminator.port)\(ProbeCommandTests.probePath)"
        let result = try CommandLineTests.run(["probe", url, "--max", "10s", "--insecure"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("warning: TLS certificate verification is off (--insecure)"))
        #expect(result.stdout.contains("cut by: fin"))
        #expect(result.stdout.contains("warning: the TLS certificate was not verified (--insecure)"))
    }

    @Test func aCAFileThatIsNotPEM_isAClearError() throws {
        let result = try CommandLineTests.run(["probe", "https://127.0.0.1:1/p", "--cacert", "/etc/hostname"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ssekeeper probe: cannot load CA certificates from /etc/hostname: "))
    }

    @Test func httpsToAPlainHTTPServer_isAClearError() throws {
        // A server that answers in plain HTTP at once, whatever it received (ssekeeper itself would wait for a
        // request head that a TLS ClientHello never completes).
        let listener = TestUpstream.listenOnLoopback()
        defer { close(listener.fd) }
        Thread {
            let client = accept(listener.fd, nil, nil)
            guard client >= 0 else { return }
            let answer = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(200_000)
            close(client)
        }.start()
        let result = try CommandLineTests.run(["probe", "https://127.0.0.1:\(listener.port)/p"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("does this port speak TLS, or is the URL http://?"), "\(result.stderr)")
    }
}

/// Whether the TLS tests can run here: libssl loads, and python3 has its ssl module. In CI (`CI` set) they always
/// run, so a machine missing either fails instead of skipping https silently.
enum TLSTestEnvironment {
    static let isCI = ProcessInfo.processInfo.environment["CI"] != nil

    static let isAvailable: Bool = {
        guard (try? TLSLibrary.load()) != nil else { return false }
        let check = ChildProcess()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import ssl"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }()
}
