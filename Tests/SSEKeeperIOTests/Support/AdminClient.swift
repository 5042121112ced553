import Foundation
import Glibc
@testable import SSEKeeperCore
@testable import SSEKeeperIO
import SSEKeeperTestSupport

/// A response from the admin endpoint (always `Connection: close`, so the whole response is read until EOF).
struct AdminResponse {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Sends `request` (raw bytes) to the admin endpoint on 127.0.0.1:`port` and reads the response to EOF.
    static func send(_ request: String, port: UInt16) throws -> AdminResponse {
        let socket = try TestSocket.connect(port: port)
        try socket.send(request)
        let bytes = try socket.receiveAll()
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw TestError("no response head: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        let head = try ReceivedHead.read(fromHeadBytes: Array(bytes[..<end.upperBound]))
        let body = Array(bytes[end.upperBound...])
        if let length = head.header("Content-Length") {
            guard Int(length) == body.count else { throw TestError("Content-Length \(length), body \(body.count) bytes") }
        }
        return AdminResponse(status: head.status, headers: head.headers, body: String(decoding: body, as: UTF8.self))
    }

    /// `GET path` on the admin endpoint.
    static func get(_ path: String, port: UInt16) throws -> AdminResponse {
        try send("GET \(path) HTTP/1.1\r\nHost: admin\r\n\r\n", port: port)
    }

    /// `GET /metrics`, checked line by line by the strict exposition reader.
    static func scrape(port: UInt16) throws -> ExpositionChecker {
        let response = try get("/metrics", port: port)
        guard response.status == 200 else { throw TestError("/metrics answered \(response.status): \(response.body)") }
        guard response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8" else {
            throw TestError("/metrics Content-Type \(response.header("Content-Type") ?? "none")")
        }
        return try ExpositionChecker(response.body)
    }
}

extension ReceivedHead {
    /// Parses a complete head (through the blank line).
    static func read(fromHeadBytes bytes: [UInt8]) throws -> ReceivedHead {
        let text = String(decoding: bytes.dropLast(4), as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let headers = try lines.map { line -> (String, String) in
            guard let colon = line.firstIndex(of: ":") else { throw TestError("bad header line \(line.debugDescription)") }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return ReceivedHead(statusLine: statusLine, headers: headers, rest: [])
    }
}

extension ProxyHarness {
    /// The admin endpoint's port (the harness must have been made with `observe.adminListen`).
    var adminPort: UInt16 { server.adminPort! }

    /// Scrapes `/metrics`, strictly checked.
    func scrape() throws -> ExpositionChecker { try AdminResponse.scrape(port: adminPort) }

    /// Scrapes until `condition` holds on the exposition or `seconds` pass; returns the last scrape.
    func scrape(until condition: (ExpositionChecker) -> Bool, seconds: Double = 5) throws -> ExpositionChecker {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try scrape()
        while !condition(last) && Date() < deadline {
            usleep(20_000)
            last = try scrape()
        }
        return last
    }
}

/// The admin endpoint on an ephemeral loopback port.
let loopbackAdmin = ObserveSettings(adminListen: ListenAddress(host: "127.0.0.1", port: 0))
