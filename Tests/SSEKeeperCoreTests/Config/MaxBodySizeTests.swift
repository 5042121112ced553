import Testing
@testable import SSEKeeperCore

struct MaxBodySizeTests {
    static let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"

    @Test func maxBodySize_isOffByDefault_andTakesASizeOrOff() throws {
        #expect(try ConfigParser.parse(Self.base, fileName: "t").limits.maxBodyBytes == nil)
        #expect(try ConfigParser.parse(Self.base + "max_body_size 10m;", fileName: "t").limits.maxBodyBytes == 10 * 1024 * 1024)
        #expect(try ConfigParser.parse(Self.base + "max_body_size off;", fileName: "t").limits.maxBodyBytes == nil)
    }

    @Test func maxBodySize_rejectsBadValues_withLineAndColumn() {
        #expect(throws: ConfigErrors.self) { try ConfigParser.parse(Self.base + "max_body_size 0;", fileName: "t") }
        do {
            _ = try ConfigParser.parse(Self.base + "max_body_size lots;", fileName: "t")
            Issue.record("accepted max_body_size lots")
        } catch {
            #expect(error.errors.map(\.description) == ["t:4:15: invalid size \"lots\" (use 512, 16k, 1m)"])
        }
    }

    @Test func maxBodySize_isTopLevelOnly() {
        #expect(throws: ConfigErrors.self) {
            try ConfigParser.parse("listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; max_body_size 1k; }\n", fileName: "t")
        }
    }
}
