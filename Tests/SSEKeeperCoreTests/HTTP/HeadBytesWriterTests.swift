import Testing
@testable import SSEKeeperCore

/// `HeadBytesWriter` writes into a buffer of its own and grows it (doubling) when a head outgrows the estimate.
struct HeadBytesWriterTests {
    /// The same appends, for heads within the estimate, at it, and many times past it.
    @Test(arguments: [0, 1, 5, 40, 400])
    func theBytes_areTheAppends_whateverTheEstimate(fields: Int) {
        var expected = Array("HTTP/1.1 200 OK\r\n".utf8)
        for index in 0..<fields {
            expected += Array("X-Field-\(index): value \(index)\r\n".utf8)
            expected += Array("Connection: close\r\n".utf8)
        }
        expected += Array("\r\n".utf8)
        for capacity in [0, 64, expected.count - 1, expected.count, expected.count + 1, 10 * expected.count] {
            var writer = HeadBytesWriter(capacity: capacity)
            writer.appendStatusLine(status: 200, reason: "OK")
            for index in 0..<fields {
                writer.appendField("X-Field-\(index)", "value \(index)")
                writer.appendFieldLine(literal: "Connection: close\r\n")
            }
            writer.appendLineEnd()
            #expect(writer.bytes == expected, "capacity \(capacity)")
        }
    }

    @Test func statusLines_otherThan200OK_areWrittenInParts() {
        for (status, reason, line) in [(200, "Fine", "HTTP/1.1 200 Fine\r\n"), (204, "No Content", "HTTP/1.1 204 No Content\r\n"),
                                       (599, "", "HTTP/1.1 599 \r\n"), (200, "OK", "HTTP/1.1 200 OK\r\n")] {
            var writer = HeadBytesWriter(capacity: 8)
            writer.appendStatusLine(status: status, reason: reason)
            #expect(writer.bytes == Array(line.utf8))
        }
    }
}
