import Foundation
import Glibc
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// A real ssekeeper on 127.0.0.1 (ephemeral port) in front of test upstreams, logging to a temp file.
final class ProxyHarness: @unchecked Sendable {
    let server: ProxyServer
    let port: UInt16
    let logPath: String
    private let logFD: Int32

    /// `routes`: (prefix, upstream ports, stream settings). Each route gets its own upstream pool.
    /// `observe`: the admin endpoint and access log settings (`adminListen` is usually `127.0.0.1:0`).
    convenience init(routes: [(prefix: String, ports: [UInt16], settings: StreamSettings)], limits: Limits = Limits(),
                     probe: ProbeSettings = ProbeSettings(), observe: ObserveSettings = ObserveSettings(),
                     loopCount: Int = 1, acceptMode: Listener.Mode = .current) throws {
        var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: 0)], probe: probe, observe: observe)
        for (index, route) in routes.enumerated() {
            let name = "pool\(index)"
            config.upstreams.append(Upstream(name: name, servers: route.ports.map { ServerAddress(host: "127.0.0.1", port: $0) }))
            config.routes.append(Route(prefix: route.prefix, upstreamName: name, settings: route.settings))
        }
        config.limits = limits
        try self.init(config: config, loopCount: loopCount, acceptMode: acceptMode)
    }

    /// One route `/` to `upstream` (named `pool0` whatever its name says), with its servers and keep-alive settings.
    convenience init(upstream: Upstream, settings: StreamSettings = StreamSettings(), limits: Limits = Limits()) throws {
        var pool = upstream
        pool.name = "pool0"
        var config = Config(listens: [ListenAddress(host: "127.0.0.1", port: 0)], upstreams: [pool])
        config.routes = [Route(prefix: "/", upstreamName: "pool0", settings: settings)]
        config.limits = limits
        try self.init(config: config)
    }

    /// A proxy for `config` (its first listen address should be `127.0.0.1:0`).
    init(config: Config, loopCount: Int = 1, acceptMode: Listener.Mode = .current) throws {
        logPath = NSTemporaryDirectory() + "ssekeeper-test-\(UUID().uuidString).log"
        logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        server = try ProxyServer(config: config, logger: Logger(fd: logFD), loopCount: loopCount, acceptMode: acceptMode)
        try server.start()
        port = server.boundPorts[0]
    }

    convenience init(upstreamPort: UInt16, settings: StreamSettings = StreamSettings(), limits: Limits = Limits(),
                     observe: ObserveSettings = ObserveSettings()) throws {
        try self.init(routes: [(prefix: "/", ports: [upstreamPort], settings: settings)], limits: limits, observe: observe)
    }

    /// The log written so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for a log line containing every one of `needles`.
    func waitForLogLine(containing needles: [String], seconds: Double = 5) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let line = log.split(separator: "\n").first(where: { line in needles.allSatisfy { line.contains($0) } }) {
                return String(line)
            }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    func client() throws -> TestSocket { try TestSocket.connect(port: port) }

    deinit {
        server.stop()
        // Not close(logFD): sessions still winding down on the loops log their last access lines after the server
        // stopped, and a closed number is soon reused by another test's socket or pipe, which would then receive
        // those lines (seen: a Python backend's stdout pipe got an access line). /dev/null takes them instead.
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, logFD)
            close(null)
        }
        unlink(logPath)
    }
}

/// A response as a test client sees it: status, headers, and the raw bytes after the head.
struct ReceivedHead {
    var statusLine: String
    var headers: [(String, String)]
    var rest: [UInt8]

    var status: Int { Int(statusLine.split(separator: " ")[1]) ?? 0 }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Reads a response head from `socket`.
    static func read(from socket: TestSocket) throws -> ReceivedHead {
        var buffer: [UInt8] = []
        try socket.receive(until: "\r\n\r\n", into: &buffer)
        let end = buffer.firstRange(of: Array("\r\n\r\n".utf8))!
        let text = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let headers = lines.map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return ReceivedHead(statusLine: statusLine, headers: headers, rest: Array(buffer[end.upperBound...]))
    }
}

/// Decodes a chunked body incrementally as bytes arrive from a socket, remembering when each chunk arrived.
struct ChunkedReader {
    var buffer: [UInt8]
    var finished = false

    init(initial: [UInt8]) { buffer = initial }

    /// Returns the next chunk's data (empty when the final chunk arrived), reading more as needed.
    mutating func nextChunk(from socket: TestSocket) throws -> [UInt8] {
        while true {
            if let lineEnd = buffer.firstRange(of: Array("\r\n".utf8)) {
                let sizeText = String(decoding: buffer[..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else {
                    throw TestError("bad chunk size line \(sizeText.debugDescription)")
                }
                let needed = lineEnd.upperBound + size + 2
                if buffer.count >= needed {
                    let data = Array(buffer[lineEnd.upperBound..<(lineEnd.upperBound + size)])
                    guard buffer[needed - 2] == 13, buffer[needed - 1] == 10 else { throw TestError("chunk not followed by CRLF") }
                    buffer.removeFirst(needed)
                    if size == 0 { finished = true }
                    return data
                }
            }
            let some = try socket.receiveSome()
            if some.isEmpty { throw TestError("EOF inside chunked body") }
            buffer += some
        }
    }

    /// Reads chunks until the body has ended; returns the concatenated data.
    mutating func readToEnd(from socket: TestSocket) throws -> [UInt8] {
        var all: [UInt8] = []
        while !finished { all += try nextChunk(from: socket) }
        return all
    }
}

/// The head of an SSE response from a test upstream (chunked unless `contentLength` framing is asked for).
func sseResponseHead(chunked: Bool = true, extra: String = "") -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\(extra)" + (chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n") + "\r\n"
}

/// One chunk of a chunked body.
func chunk(_ text: String) -> String {
    String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
}

func milliseconds(_ value: Int) -> Duration { .milliseconds(value) }
