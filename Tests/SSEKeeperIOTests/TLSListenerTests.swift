import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `listen ... tls`: a real ssekeeper terminating TLS with throwaway certificates (made by the `openssl` CLI in a
/// temp dir), driven by Python's `ssl` client (`Tests/Fixtures/tls_client.py`) over real sockets to 127.0.0.1.
/// In CI (`CI` set) the suite always runs, so a machine without libssl, python3's ssl or openssl fails.
@Suite(.serialized, .enabled(if: TLSListenerEnvironment.canRun || TLSTestEnvironment.isCI, "needs libssl, python3 with ssl, and openssl"))
struct TLSListenerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardized

    /// Certificates for `first` and `second` (each its own CA), in a temp dir removed at deinit.
    final class Certificates {
        let directory: String

        init() throws {
            directory = NSTemporaryDirectory() + "ssekeeper-tls-\(UUID().uuidString)"
            mkdir(directory, 0o700)
            let script = fixtures.appendingPathComponent("tls_make_certificates.sh").path
            guard try TLSListenerTests.run(["sh", script, directory, "first", "second"]).status == 0 else {
                throw TestError("openssl could not make the test certificates")
            }
        }

        func path(_ name: String) -> String { "\(directory)/\(name)" }

        func settings(_ name: String) -> TLSSettings {
            TLSSettings(certificatePath: path("\(name).pem"), keyPath: path("\(name)-key.pem"))
        }

        deinit { _ = try? TLSListenerTests.run(["rm", "-rf", directory]) }
    }

    /// One run of `tls_client.py`, its stdout collected as it arrives.
    final class Client: @unchecked Sendable {
        /// The output so far, shared with the reading thread (which must not keep the client alive: the client's
        /// `deinit` kills a child still running, and that ends the thread).
        private final class Output: @unchecked Sendable {
            let lock = NSLock()
            var bytes: [UInt8] = []
        }

        private let process = ChildProcess()
        private let collected = Output()

        init(port: UInt16, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-W", "ignore", fixtures.appendingPathComponent("tls_client.py").path, String(port)] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // A thread blocked in `read` until the child's end of the pipe closes, not a `readabilityHandler`: that
            // is a Dispatch source on the pipe, and libdispatch's epoll loop on Linux can crash the whole test
            // process when such handles come and go (swiftlang/swift-corelibs-foundation#3276; it crashed CI here
            // with SIGSEGV in `_dispatch_event_loop_drain`).
            let reader = out.fileHandleForReading
            let collected = collected
            Thread {
                while true {
                    let data = reader.availableData
                    if data.isEmpty { break }
                    collected.lock.withLock { collected.bytes += data }
                }
            }.start()
        }

        var output: String { collected.lock.withLock { String(decoding: collected.bytes, as: UTF8.self) } }

        /// Waits up to `seconds` for `text` in the output; the output so far.
        @discardableResult
        func wait(for text: String, seconds: Double = 5) -> String {
            let deadline = Date().addingTimeInterval(seconds)
            while !output.contains(text), Date() < deadline { usleep(10_000) }
            return output
        }

        /// Waits for the client to exit; its whole output.
        func finish() -> String {
            process.waitUntilExit()
            usleep(50_000)
            return output
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// A proxy with one `tls` listener on 127.0.0.1 (ephemeral port) presenting `certificate`, routing `/` to
    /// `upstreamPort`.
    static func proxy(_ certificates: Certificates, certificate: String = "first", upstreamPort: UInt16,
                      settings: StreamSettings = StreamSettings()) throws -> ProxyHarness {
        try ProxyHarness(config: config(certificates, certificate: certificate, upstreamPort: upstreamPort, settings: settings))
    }

    static func config(_ certificates: Certificates, certificate: String, upstreamPort: UInt16,
                       settings: StreamSettings = StreamSettings()) -> Config {
        Config(listens: [ListenAddress(host: "127.0.0.1", port: 0, transport: .tls)],
               upstreams: [Upstream(name: "pool0", servers: [ServerAddress(host: "127.0.0.1", port: upstreamPort)])],
               routes: [Route(prefix: "/", upstreamName: "pool0", settings: settings)],
               tls: certificates.settings(certificate))
    }

    @Test func aRideThroughReconnectOverTLS_acceptedOnAnotherLoop_isHandedOverWithItsSession_andReattaches() throws {
        let certificates = try Certificates()
        // The first event at once, the second when the test says (`step`).
        let backend = try RideThroughTests.PacedBackend(["data: one\n\n", "data: two\n\n"])
        backend.step()
        var settings = StreamSettings(idleTimeout: .seconds(30))
        settings.clientResumeWindow = .seconds(10)
        let proxy = try ProxyHarness(config: Self.config(certificates, certificate: "first", upstreamPort: backend.port,
                                                         settings: settings), loopCount: 2)
        let cafile = certificates.path("first-ca.pem")
        let first = try Client(port: proxy.port, ["--cafile", cafile, "--until", "id: sk1."])
        let seen = first.finish()
        let id = try #require(RideThroughTests.lastID(seen), "the first stream's id: \(seen)")
        _ = proxy.waitForLogLine(containing: ["client_detached"])
        backend.step()
        usleep(100_000)
        // Round-robin over two loops: the reconnect is accepted on the other loop and handed over, TLS and all.
        let second = try Client(port: proxy.port, ["--cafile", cafile, "--header", "Last-Event-ID: \(id)", "--until", "data: two"])
        let back = second.finish()
        #expect(back.contains("data: two"), "the reattached client gets the event it missed: \(back)")
        #expect(!back.contains("data: one"))
        #expect(backend.upstream.connectionCount == 1, "the backend saw one request")
        let loops = proxy.server.group.loops
        #expect(loops.map { loop in loop.queue.sync { loop.metrics.process.connectionsHandedOver } }.reduce(0, +) == 1)
    }

    /// An SSE upstream: `count` events `data: N`, `pause` apart, then the end.
    static func eventUpstream(count: Int, pauseMicroseconds: UInt32) throws -> TestUpstream {
        try TestUpstream { connection, _, upstream in
            try connection.send(sseResponseHead())
            for index in 0..<count {
                do {
                    try connection.send(chunk("data: \(index)\n\n"))
                } catch {
                    upstream.noteClosed()
                    return
                }
                usleep(pauseMicroseconds)
            }
            try connection.send("0\r\n\r\n")
        }
    }

    @Test func anSSEStream_throughTLS_carriesEventsAndHeartbeats_withALPNHTTP11_andForwardedProtoHTTPS() throws {
        let certificates = try Certificates()
        let upstream = try Self.eventUpstream(count: 2, pauseMicroseconds: 1_000_000)
        let settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3, heartbeatComment: "hb")
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port, settings: settings)
        let client = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--alpn", "http/1.1",
                                                    "--until", "0\r\n\r\n"])
        let output = client.finish()
        #expect(output.hasPrefix("HANDSHAKE version=TLSv1.3 alpn=http/1.1 subject=first\n"), "\(output)")
        #expect(output.contains("HTTP/1.1 200 OK\r\n"))
        #expect(output.contains("data: 0\n\n") && output.contains("data: 1\n\n"), "\(output)")
        #expect(output.contains(": hb"), "heartbeats in the 1 s pause: \(output)")
        #expect(upstream.receivedRequests.first?.contains("X-Forwarded-Proto: https\r\n") == true,
                "\(upstream.receivedRequests)")
        withExtendedLifetime(proxy) {}
    }

    /// ALPN answers in our order, not the client's (RFC 7301 §3.2): `h2` whenever offered while `http2` is on,
    /// `http/1.1` with `http2 off;`, and no ALPN at all to a client offering only `h2` then.
    @Test func alpn_selectsH2First_whenHTTP2IsOn_andHTTP11_withHTTP2Off() throws {
        let certificates = try Certificates()
        let cafile = certificates.path("first-ca.pem")
        var config = Self.config(certificates, certificate: "first", upstreamPort: 1)
        for (http2, offers) in [(true, ["h2,http/1.1": "h2", "http/1.1,h2": "h2", "http/1.1": "http/1.1"]),
                                (false, ["h2,http/1.1": "http/1.1", "http/1.1,h2": "http/1.1", "h2": "None"])] {
            config.limits.http2 = http2
            let proxy = try ProxyHarness(config: config)
            #expect(proxy.server.runtime.context.tls?.applicationProtocols == (http2 ? ["h2", "http/1.1"] : ["http/1.1"]))
            for (offered, selected) in offers {
                let client = try Client(port: proxy.port, ["--cafile", cafile, "--alpn", offered, "--seconds", "2"])
                let output = client.wait(for: "subject=first\n")
                #expect(output.hasPrefix("HANDSHAKE version=TLSv1.3 alpn=\(selected) subject=first\n"),
                        "http2 \(http2 ? "on" : "off"), client offers \(offered): \(output)")
            }
        }
    }

    @Test func aPlainRequest_throughTLS_getsItsWholeResponse_overTLS12Too() throws {
        let certificates = try Certificates()
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
        }
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port)
        for version in ["1.2", "1.3"] {
            let client = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--path", "/plain",
                                                        "--tls-version", version, "--seconds", "3", "--until", "hello"])
            let output = client.finish()
            #expect(output.hasPrefix("HANDSHAKE version=TLSv\(version) alpn=None"), "\(output)")
            #expect(output.contains("HTTP/1.1 200 OK\r\n") && output.hasSuffix("\r\n\r\nhello"), "\(output)")
        }
    }

    @Test func aLargeBody_toAClientThatReadsLate_arrivesWhole_throughTheQueuedTLSWrites() throws {
        // 8 MiB to a client with a 32 KiB receive buffer: more than the socket buffers hold while the client
        // sleeps, so SSL_write wants the socket, the rest is queued and sent from the same bytes when it turns
        // writable.
        let lineCount = 1024 * 1024
        let body = (0..<lineCount).map { String(format: "%07d\n", $0) }.joined()
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            try connection.send(body)
        }
        let certificates = try Certificates()
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port)
        let client = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--path", "/big", "--delay-read", "0.5",
                                                    "--summary", "--until", String(format: "%07d\n", lineCount - 1)])
        let output = client.finish()
        #expect(output.hasSuffix("SUMMARY bytes=\(body.utf8.count) lines=\(lineCount) ordered=True\n"), "\(output)")
    }

    @Test func aClientClosingMidStream_tearsTheUpstreamDown() throws {
        let certificates = try Certificates()
        let upstream = try Self.eventUpstream(count: 1000, pauseMicroseconds: 20_000)
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port)
        let client = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--until", "data: 3\n"])
        let output = client.finish()
        #expect(output.contains("data: 3\n"), "\(output)")
        let deadline = Date().addingTimeInterval(3)
        while upstream.closeTimes.isEmpty, Date() < deadline { usleep(10_000) }
        #expect(upstream.closeTimes.count == 1, "the upstream saw its connection closed")
        withExtendedLifetime(proxy) {}
    }

    @Test func plainHTTPToTheTLSPort_isClosed_andTheListenerGoesOn() throws {
        let certificates = try Certificates()
        let upstream = try Self.eventUpstream(count: 1, pauseMicroseconds: 0)
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port)
        let socket = try proxy.client()
        try socket.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        let seconds = try socket.secondsUntilClosed()
        #expect(seconds < 2, "closed after \(seconds) s")
        let client = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--until", "data: 0\n\n"])
        #expect(client.finish().contains("data: 0\n\n"))
        #expect(upstream.receivedRequests.count == 1, "the plain request never reached the upstream")
    }

    /// An `h2c` listener is plain TCP at the socket level: no TLS session is made, and HTTP/1.1 is served on it
    /// (with `X-Forwarded-Proto: http`), even when the configuration has a TLS context for another listener.
    @Test func anH2cListener_servesPlainHTTP11_withoutTLS() throws {
        let certificates = try Certificates()
        let upstream = try Self.eventUpstream(count: 1, pauseMicroseconds: 0)
        var config = Self.config(certificates, certificate: "first", upstreamPort: upstream.port)
        config.listens = [ListenAddress(host: "127.0.0.1", port: 0, transport: .h2c),
                          ListenAddress(host: "127.0.0.1", port: 0, transport: .tls)]
        let proxy = try ProxyHarness(config: config)
        #expect(proxy.server.runtime.context.tls != nil, "the tls listener has its context")
        let socket = try proxy.client()
        socket.setReceiveTimeout(seconds: 3)
        try socket.send("GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        var received: [UInt8] = []
        try socket.receive(until: "data: 0\n\n", into: &received)
        #expect(String(decoding: received, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(upstream.receivedRequests.first?.contains("X-Forwarded-Proto: http\r\n") == true, "\(upstream.receivedRequests)")
    }

    @Test func tls11_isRefused() throws {
        let certificates = try Certificates()
        let upstream = try Self.eventUpstream(count: 1, pauseMicroseconds: 0)
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port)
        let client = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--tls-version", "1.1"])
        let output = client.finish()
        // Python's client offers TLS 1.1 here (with @SECLEVEL=0); were it unable to, it would fail before sending
        // and say "no protocols available", which this test reports instead of passing.
        #expect(!output.contains("NO_PROTOCOLS_AVAILABLE"), "the client cannot offer TLS 1.1: \(output)")
        #expect(output.hasPrefix("ERROR ") && output.contains("protocol version"), "\(output)")
        #expect(upstream.receivedRequests.isEmpty)
        withExtendedLifetime(proxy) {}
    }

    @Test func aReloadWithANewCertificate_servesItToNewConnections_whileAnOpenStreamGoesOn() throws {
        let certificates = try Certificates()
        let upstream = try Self.eventUpstream(count: 30, pauseMicroseconds: 100_000)
        let proxy = try Self.proxy(certificates, upstreamPort: upstream.port)
        let open = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem"), "--until", "0\r\n\r\n"])
        #expect(open.wait(for: "data: 2\n").contains("subject=first"))
        try proxy.server.reload(config: Self.config(certificates, certificate: "second", upstreamPort: upstream.port))
        let fresh = try Client(port: proxy.port, ["--cafile", certificates.path("second-ca.pem"), "--until", "data: 0\n"])
        #expect(fresh.finish().hasPrefix("HANDSHAKE version=TLSv1.3 alpn=None subject=second\n"))
        let stale = try Client(port: proxy.port, ["--cafile", certificates.path("first-ca.pem")])
        #expect(stale.finish().hasPrefix("ERROR "), "the first certificate is no longer served")
        let output = open.finish()
        #expect(output.contains("data: 29\n\n") && output.hasSuffix("0\r\n\r\n"), "the open stream went on: \(output.suffix(200))")
    }

    @Test func check_reportsAMissingFile_andAKeyThatDoesNotMatch() throws {
        let certificates = try Certificates()
        var config = Self.config(certificates, certificate: "first", upstreamPort: 1)
        #expect(throws: Never.self) { try ProxyServer.checkTLS(config) }
        config.tls.certificatePath = certificates.path("absent.pem")
        #expect {
            try ProxyServer.checkTLS(config)
        } throws: { error in
            "\(error)" == "tls: tls_certificate \(certificates.path("absent.pem")): cannot load it: No such file or directory"
        }
        config.tls = TLSSettings(certificatePath: certificates.path("first.pem"), keyPath: certificates.path("second-key.pem"))
        #expect {
            try ProxyServer.checkTLS(config)
        } throws: { error in
            "\(error)".hasPrefix("tls: tls_certificate_key \(certificates.path("second-key.pem")) does not match tls_certificate \(certificates.path("first.pem")): ")
        }
        // The command says the same, after the file name.
        let path = try CommandLineTests.temporaryFile("""
            listen 127.0.0.1:8443 tls;
            tls_certificate \(certificates.path("first.pem"));
            tls_certificate_key \(certificates.path("second-key.pem"));
            upstream app { server 127.0.0.1:9000; }
            route / { upstream app; }
            """)
        let result = try CommandLineTests.run(["check", "-c", path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("\(path): tls_certificate_key \(certificates.path("second-key.pem")) does not match"), "\(result.stderr)")
    }

    @Test func withoutLibssl_aTLSListenerIsAClearError_andAPlainConfigStillRuns() throws {
        // In-process: the library that cannot be opened is named, with what to do.
        guard case .failure(let failure) = TLSServerContext.loadLibrary(candidates: ["libssl-not-installed.so.3"]) else {
            Issue.record("a library that does not exist was loaded")
            return
        }
        #expect(failure.message.hasPrefix("listen ... tls needs the system's OpenSSL library (libssl.so.3), which could not be loaded ("))
        #expect(failure.message.contains("libssl-not-installed.so.3"))
        #expect(failure.message.hasSuffix("install it (Debian/Ubuntu: apt-get install libssl3) or take tls off the listen lines"))
        // The binary, in a private mount namespace where every libssl the loader knows reads as /dev/null (root
        // only; CI is root).
        guard getuid() == 0 else { return }
        let certificates = try Certificates()
        let tls = try CommandLineTests.temporaryFile("""
            listen 127.0.0.1:8443 tls;
            tls_certificate \(certificates.path("first.pem"));
            tls_certificate_key \(certificates.path("first-key.pem"));
            upstream app { server 127.0.0.1:9000; }
            route / { upstream app; }
            """)
        let plain = try CommandLineTests.temporaryFile("listen 127.0.0.1:8080;\nupstream app { server 127.0.0.1:9000; }\nroute / { upstream app; }\n")
        let script = #"for f in $(ldconfig -p | awk '/libssl\.so/ {print $NF}'); do mount --bind /dev/null "$f" || exit 90; done; "$0" check -c "$1"; echo "tls=$?"; "$0" check -c "$2"; echo "plain=$?""#
        let result = try Self.run(["unshare", "-m", "sh", "-c", script, CommandLineTests.binary.path, tls, plain]).output
        #expect(result.contains("tls=1"), "\(result)")
        #expect(result.contains("\(tls): listen ... tls needs the system's OpenSSL library (libssl.so.3)"), "\(result)")
        #expect(result.contains("plain=0"), "without a tls listener the binary never needs libssl: \(result)")
    }

    /// Runs `arguments` (through `env`): its exit status, and its stdout and stderr together.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func probe_overHTTPS_measuresThroughATLSListener_thatAlsoOffersH2() throws {
        let certificates = try Certificates()
        let upstream = try TestUpstream { _, _, _ in }
        var config = Self.config(certificates, certificate: "first", upstreamPort: upstream.port)
        config.probe = ProbeSettings(path: ProbeCommandTests.probePath)
        #expect(config.limits.http2, "ALPN offers h2 first: the probe, which offers no ALPN, must still get HTTP/1.1")
        let proxy = try ProxyHarness(config: config)
        let url = "https://127.0.0.1:\(proxy.port)\(ProbeCommandTests.probePath)"
        let result = try CommandLineTests.run(["probe", url, "--max", "2s", "--insecure", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"max_s\""), "\(result.stdout)")
        #expect(proxy.log.contains("path=\(ProbeCommandTests.probePath)") || result.stdout.contains("survived"), "\(result.stdout)")
    }

    @Test func aTLSListenerWithoutItsFiles_isAConfigErrorAtTheListen() throws {
        let text = "upstream app { server 127.0.0.1:9000; }\nroute / { upstream app; }\nlisten 127.0.0.1:8443 tls;\n"
        #expect {
            _ = try ConfigParser.parse(text, fileName: "p.conf")
        } throws: { error in
            "\(error)" == "p.conf:3:8: listen 127.0.0.1:8443 tls needs tls_certificate and tls_certificate_key at top level, "
                + "e.g. \"tls_certificate /etc/ssekeeper/fullchain.pem;\""
        }
        #expect {
            _ = try ConfigParser.parse("listen 8443 tsl;\nupstream a { server 127.0.0.1:1; }\nroute / { upstream a; }\n", fileName: "p.conf")
        } throws: { error in
            "\(error)" == "p.conf:1:13: unknown listen option \"tsl\"; did you mean \"tls\"?"
        }
        let config = try ConfigParser.parse(text + "tls_certificate /c.pem;\ntls_certificate_key /k.pem;\n", fileName: "p.conf")
        #expect(config.listens == [ListenAddress(host: "127.0.0.1", port: 8443, transport: .tls)])
        #expect(config.tls == TLSSettings(certificatePath: "/c.pem", keyPath: "/k.pem"))
    }
}

/// Whether TLSListenerTests can run here: libssl, python3's ssl and the openssl CLI.
enum TLSListenerEnvironment {
    static let canRun: Bool = TLSTestEnvironment.isAvailable && (try? TLSListenerTests.run(["openssl", "version"]))?.status == 0
}
