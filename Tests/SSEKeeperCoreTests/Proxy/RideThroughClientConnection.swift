@testable import SSEKeeperCore

/// One connection of a client that rides through (issue 15), as the property suite's model of a browser's
/// `EventSource`: it reads what the proxy wrote up to the byte where its TCP connection breaks (`cutAt`; bytes after
/// that are lost), checks that the connection starts with its response head, removes the client framing (a real
/// `ChunkedDecoder` for chunked) and feeds the body to a WHATWG client (`SpecEventStreamParser`), which carries the
/// last event ID string over from the connection before (HTML §9.2.3: the EventSource keeps it across reconnects).
struct RideThroughClientConnection {
    /// The head this connection's response must start with.
    let head: [UInt8]
    /// The client framing of this connection's response.
    let framing: ClientFraming
    /// The WHATWG client reading this connection's body.
    private(set) var parser: SpecEventStreamParser
    /// Raw bytes received (head and framing included).
    private(set) var received = 0
    /// The raw byte count after which the connection breaks (nil: it never does).
    var cutAt: Int?
    /// Whether the connection broke: nothing more arrives.
    private(set) var isBroken = false
    /// Whether the last chunk of a chunked body arrived.
    private(set) var sawLastChunk = false
    /// What is wrong with the bytes received (not the head first, invalid chunked framing, bytes after the end).
    private(set) var problem: String?
    private var decoder = ChunkedDecoder()

    /// A connection whose response starts with `head`, framed by `framing`; `lastEventIdString`: what the client
    /// carried from its previous connection.
    init(head: [UInt8], framing: ClientFraming, lastEventIdString: String, cutAt: Int?) {
        self.head = head
        self.framing = framing
        self.cutAt = cutAt
        parser = SpecEventStreamParser(lastEventIdString: lastEventIdString)
        if cutAt == 0 { isBroken = true }
    }

    /// The proxy wrote `bytes`: the part before the cut arrives and is read.
    mutating func receive(_ bytes: [UInt8]) {
        guard !isBroken else { return }
        var arriving = bytes[...]
        if let cutAt, arriving.count >= cutAt - received {
            arriving = arriving.prefix(cutAt - received)
            isBroken = true
        }
        let offset = received
        received += arriving.count
        if offset < head.count {
            let headPart = arriving.prefix(head.count - offset)
            if !headPart.elementsEqual(head[offset..<offset + headPart.count]) {
                problem = problem ?? "the connection does not start with its head"
            }
            arriving = arriving.dropFirst(headPart.count)
        }
        guard !arriving.isEmpty else { return }
        guard framing == .chunked else {
            parser.feed(arriving)
            return
        }
        guard !sawLastChunk else {
            problem = problem ?? "\(arriving.count) bytes after the last chunk"
            return
        }
        var body: [UInt8] = []
        do {
            let (consumed, finished) = try arriving.withUnsafeBytes { raw in
                try decoder.decode(raw) { body.append(contentsOf: $0) }
            }
            sawLastChunk = finished
            if consumed < arriving.count { problem = problem ?? "\(arriving.count - consumed) bytes after the last chunk" }
        } catch {
            problem = problem ?? "invalid chunked framing: \(error)"
        }
        parser.feed(body)
    }

    /// The connection closed (broken, or the response ended): the partial event is discarded (§9.2.6).
    mutating func close() {
        parser.finish()
    }
}
