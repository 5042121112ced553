import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// `heartbeat_event` through a real ssekeeper over 127.0.0.1 (issue 14): a quiet SSE backend, and the client sees
/// whole heartbeat events between the backend's events, read by a client-side parser (`SSEEventReader`, WHATWG HTML
/// §9.2.6). Serialized: these wait for heartbeats on a shared 2-core box.
@Suite(.serialized)
struct HeartbeatEventTests {
    /// Heartbeats after 1 s x 0.3 = 300 ms of silence.
    static func settings(event: String, data: String? = nil) -> StreamSettings {
        var settings = StreamSettings(idleTimeout: .seconds(1), heartbeatFraction: 0.3, heartbeatComment: "hb")
        settings.heartbeatEvent = event
        settings.heartbeatData = data
        return settings
    }

    /// A backend that sends `first`, stays silent for `silenceMicroseconds`, sends `second`, and ends.
    static func quietBackend(first: String, silenceMicroseconds: UInt32, second: String) throws -> TestUpstream {
        try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            if !first.isEmpty { try connection.send(chunk(first)) }
            usleep(silenceMicroseconds)
            try connection.send(chunk(second))
            try connection.send("0\r\n\r\n")
        }
    }

    /// Each chunk the client received as text, and the events a client parser dispatched from the whole body.
    static func stream(through proxy: ProxyHarness, lastEventID: String? = nil) throws -> ([String], [SSEEvent]) {
        let client = try proxy.client()
        let header = lastEventID.map { "Last-Event-ID: \($0)\r\n" } ?? ""
        try client.send("GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\(header)\r\n")
        let head = try ReceivedHead.read(from: client)
        #expect(head.status == 200)
        var reader = ChunkedReader(initial: head.rest)
        var pieces: [String] = []
        var parser = SSEEventReader()
        var events: [SSEEvent] = []
        while !reader.finished {
            let data = try reader.nextChunk(from: client)
            pieces.append(String(decoding: data, as: UTF8.self))
            events += try data.withUnsafeBytes { try parser.feed($0) }
        }
        return (pieces, events)
    }

    @Test func aQuietBackend_yieldsPingEvents_carryingTheServersUnixMilliseconds() throws {
        let upstream = try Self.quietBackend(first: "id: 1\ndata: first\n\n", silenceMicroseconds: 1_100_000,
                                             second: "data: second\n\n")
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings(event: "ping"))
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let (pieces, events) = try Self.stream(through: proxy)
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        let heartbeats = pieces.filter { $0.hasPrefix("event: ping\n") }
        #expect((2...5).contains(heartbeats.count), "pieces: \(pieces)")
        for heartbeat in heartbeats {
            let lines = heartbeat.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 4 && lines[2].isEmpty && lines[3].isEmpty,
                    "one event, no id line: \(heartbeat.debugDescription)")
            let milliseconds = lines.count > 1 ? Int64(lines[1].dropFirst("data: ".count)) : nil
            #expect(milliseconds.map { (before...after).contains($0) } == true, "\(heartbeat.debugDescription)")
        }
        #expect(pieces.first == "id: 1\ndata: first\n\n")
        #expect(pieces.dropLast().last == "data: second\n\n")
        #expect(!pieces.contains(": hb\n"), "between events no comment goes")
        #expect(events.map(\.type) == ["message"] + Array(repeating: "ping", count: heartbeats.count) + ["message"])
        #expect(events.first?.data == "first" && events.last?.data == "second")
    }

    @Test func heartbeatEventMessage_reachesTheClientsDefaultEventType_withTheConfiguredData() throws {
        let upstream = try Self.quietBackend(first: "", silenceMicroseconds: 800_000, second: "data: last\n\n")
        let settings = Self.settings(event: "message", data: "alive")
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: settings)
        let (pieces, events) = try Self.stream(through: proxy)
        #expect(events.count >= 2, "pieces: \(pieces)")
        #expect(events.dropLast().allSatisfy { $0 == SSEEvent(type: "message", data: "alive") }, "\(events)")
        #expect(events.last == SSEEvent(type: "message", data: "last"))
    }

    @Test func aClientThatCarriedALastEventId_getsComments_untilTheBackendsFirstEvent() throws {
        // A heartbeat event before the backend's first blank line would set the client's last event ID to the new
        // stream's empty one: the reconnect would lose its place. So those heartbeats stay comments.
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send(sseResponseHead())
            usleep(800_000)
            try connection.send(chunk("id: 6\ndata: a\n\n"))
            usleep(800_000)
            try connection.send("0\r\n\r\n")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port, settings: Self.settings(event: "ping"))
        let (pieces, _) = try Self.stream(through: proxy, lastEventID: "5")
        let first = try #require(pieces.firstIndex(of: "id: 6\ndata: a\n\n"), "pieces: \(pieces)")
        let beforeFirst = pieces[..<first].filter { !$0.isEmpty }
        let afterFirst = pieces[(first + 1)...].filter { !$0.isEmpty }
        #expect(!beforeFirst.isEmpty && beforeFirst.allSatisfy { $0 == ": hb\n" }, "before: \(beforeFirst)")
        #expect(!afterFirst.isEmpty && afterFirst.allSatisfy { $0.hasPrefix("event: ping\ndata: ") },
                "after: \(afterFirst)")
    }
}
