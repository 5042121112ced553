import Foundation
import Glibc
import Testing
@testable import SSEKeeperCore
@testable import SSEKeeperIO

/// However a head is cut into reads, it is read whole. Upstream (whole with the first event, split mid-line, after an
/// interim 1xx in the same read or the next): the client gets the interim head, the final head and the first event,
/// each once and in order. Client: the upstream gets the request head once, whole. The proxy parses a head that came
/// whole where it was read and buffers one that did not.
struct HeadReadsTests {
    static let sse = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    static let hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"

    /// (name, the upstream's writes, 40 ms apart so each is its own read, whether a 103 precedes the 200).
    static let cases: [(String, [String], Bool)] = [
        ("the head and the first event in one write", [sse + "data: one\n\n"], false),
        ("the head alone, then the event", [sse, "data: one\n\n"], false),
        ("the head cut mid-field and between CR and LF", ["HTTP/1.1 200 OK\r\nContent-Ty",
                                                          "pe: text/event-stream\r\n\r", "\ndata: one\n\n"], false),
        ("the head a byte at a time at its end",
         [String(decoding: sse.utf8.dropLast(2), as: UTF8.self), "\r", "\n", "data: one\n\n"], false),
        ("a 103, the head and the event in one write", [hints + sse + "data: one\n\n"], true),
        ("a 103 with half the final head, then the rest", [hints + "HTTP/1.1 2", "00 OK\r\nContent-Type: "
                                                             + "text/event-stream\r\n\r\ndata: one\n\n"], true),
        ("half a 103, then the rest of it and the head", ["HTTP/1.1 103 Ea", "rly Hints\r\n\r\n" + sse,
                                                           "data: one\n\n"], true),
    ]

    @Test(arguments: cases)
    func theClientGetsEachHeadAndTheFirstEventOnce(name: String, writes: [String], interim: Bool) throws {
        let upstream = try TestUpstream { connection, _, _ in
            for (index, piece) in writes.enumerated() {
                if index > 0 { usleep(40_000) }
                try connection.send(piece)
            }
            usleep(300_000)
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        try client.send("GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n")
        var received: [UInt8] = []
        try client.receive(until: "data: one\n\n", into: &received)
        let text = String(decoding: received, as: UTF8.self)
        let final = try #require(text.range(of: "HTTP/1.1 200 OK\r\n"),
                                 "\(name): no final head in \(text.debugDescription)")
        #expect(text.components(separatedBy: "HTTP/1.1 200 ").count == 2, "\(name): one final head")
        #expect(text.components(separatedBy: "data: one\n\n").count == 2, "\(name): the event once")
        #expect(text[final.lowerBound...].contains("Content-Type: text/event-stream\r\n"), "\(name)")
        if interim {
            let early = try #require(text.range(of: "HTTP/1.1 103 Early Hints\r\n"), "\(name): the 103 is forwarded")
            #expect(early.lowerBound < final.lowerBound, "\(name): the 103 comes first")
            #expect(text.components(separatedBy: "HTTP/1.1 103 ").count == 2, "\(name): one 103")
        } else {
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(name): \(text.debugDescription)")
        }
        // The event is in the body, after the final head's blank line (in a chunk, for this close-delimited body).
        let headEnd = try #require(text.range(of: "\r\n\r\n", range: final.lowerBound..<text.endIndex))
        #expect(text[headEnd.upperBound...].contains("data: one\n\n"), "\(name): \(text.debugDescription)")
    }

    static let requestCuts: [(String, [String])] = [
        ("the request line cut", ["GET /ev", "ents HTTP/1.1\r\nHost: t\r\n\r\n"]),
        ("cut between CR and LF of the blank line", ["GET /events HTTP/1.1\r\nHost: t\r\n\r", "\n"]),
        ("a byte at a time at the end", ["GET /events HTTP/1.1\r\nHost: t\r\n", "\r", "\n"]),
    ]

    @Test(arguments: requestCuts)
    func aRequestHeadCutIntoReads_reachesTheUpstreamOnce_whole(name: String, writes: [String]) throws {
        let upstream = try TestUpstream { connection, _, _ in
            try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let proxy = try ProxyHarness(upstreamPort: upstream.port)
        let client = try proxy.client()
        for (index, piece) in writes.enumerated() {
            if index > 0 { usleep(40_000) }
            try client.send(piece)
        }
        let response = try ReceivedHead.read(from: client)
        #expect(response.status == 200, "\(name): \(response.statusLine)")
        let seen = upstream.receivedRequests
        #expect(seen.count == 1, "\(name): \(seen)")
        #expect(seen.first?.hasPrefix("GET /events HTTP/1.1\r\n") == true, "\(name): \(seen)")
    }
}
