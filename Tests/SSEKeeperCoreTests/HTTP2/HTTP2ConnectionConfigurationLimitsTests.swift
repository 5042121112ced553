import Testing
@testable import SSEKeeperCore

/// `HTTP2ConnectionConfiguration(limits:)`: the configuration file's limits as the HTTP/2 machine's settings.
struct HTTP2ConnectionConfigurationLimitsTests {
    static func configuration(_ lines: String) throws -> HTTP2ConnectionConfiguration {
        let config = try ConfigParser.parse("listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n" + lines,
                                            fileName: "t")
        return HTTP2ConnectionConfiguration(limits: config.limits)
    }

    @Test func theDefaults_give128Streams_aHeaderListOf16KPlus32PerField_andLeaveTheRestAtItsDefaults() throws {
        let configuration = try Self.configuration("")
        let plain = HTTP2ConnectionConfiguration()
        #expect(configuration.maxConcurrentStreams == 128)
        #expect(configuration.headerLimits == HPACKDecoder.Limits(maxHeaderListSize: 16_384 + 100 * 32, maxFieldCount: 100,
                                                                  maxStringLength: 16_384))
        #expect(configuration.initialWindowSize == plain.initialWindowSize)
        #expect(configuration.connectionWindowSize == plain.connectionWindowSize)
        #expect(configuration.frameLimits == plain.frameLimits)
        #expect(configuration.floodBudgets == plain.floodBudgets)
    }

    @Test func theConfiguredStreamLimit_andHeaderSize_areWhatOurSettingsAdvertise() throws {
        let configuration = try Self.configuration("http2_max_concurrent_streams 7;\nmax_header_size 4k;\n")
        let settings = configuration.settings
        #expect(settings.contains(HTTP2Setting(.maxConcurrentStreams, 7)), "\(settings)")
        #expect(settings.contains(HTTP2Setting(.maxHeaderListSize, 4096 + 3200)), "\(settings)")
        #expect(configuration.headerLimits.maxStringLength == 4096)
    }

    /// 60 fields whose HTTP/1.1 head is exactly `max_header_size`: over HTTP/2 they count 28 octets more each (32
    /// instead of ": " and CRLF), more than `max_header_size` alone, and must still be accepted.
    @Test func aRequestWhoseHTTP1HeadFitsMaxHeaderSize_decodesOverHTTP2_andOneMuchLargerIsRefused() throws {
        let maxHeaderBytes = 4096
        var limits = Limits()
        limits.maxHeaderBytes = maxHeaderBytes
        let configuration = HTTP2ConnectionConfiguration(limits: limits)
        let requestLine = "GET /p HTTP/1.1\r\n"
        let host = "Host: a\r\n"
        let fieldCount = 60
        // Each field "x-NN: VALUE\r\n" costs 8 + VALUE; the padding makes the whole head exactly maxHeaderBytes.
        let room = maxHeaderBytes - requestLine.utf8.count - host.utf8.count - 2 - fieldCount * 8
        let fields = (0..<fieldCount).map { index in
            HPACKHeaderField("x-" + (index < 10 ? "0" : "") + "\(index)",
                             String(repeating: "v", count: room / fieldCount + (index < room % fieldCount ? 1 : 0)))
        }
        let head = requestLine + host + fields.map { "\(String(decoding: $0.name, as: UTF8.self)): \(String(decoding: $0.value, as: UTF8.self))\r\n" }.joined() + "\r\n"
        #expect(head.utf8.count == maxHeaderBytes)
        var parser = HeadParser(maxHeaderBytes: maxHeaderBytes)
        let parsed = try Array(head.utf8).withUnsafeBytes { bytes in try parser.parseRequest(bytes) }
        guard case .complete = parsed else {
            Issue.record("the HTTP/1.1 head does not fit: \(parsed)")
            return
        }
        let request = [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "https"),
                       HPACKHeaderField(":path", "/p"), HPACKHeaderField(":authority", "a")] + fields
        #expect(request.map(\.size).reduce(0, +) > maxHeaderBytes, "the test must need the per-field allowance")
        var encoder = HPACKEncoder()
        var decoder = HPACKDecoder(limits: configuration.headerLimits)
        #expect(try decoder.decode(encoder.encode(request)) == request)

        let large = [HPACKHeaderField(":method", "GET")] + (0..<3).map { HPACKHeaderField("x-\($0)", String(repeating: "v", count: 3000)) }
        #expect(throws: HPACKError.headerListTooLarge(size: large.map(\.size).reduce(0, +), limit: 4096 + 3200)) {
            try decoder.decode(encoder.encode(large))
        }
    }
}
