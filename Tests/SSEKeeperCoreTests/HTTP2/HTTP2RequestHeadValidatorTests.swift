import Testing
@testable import SSEKeeperCore

/// `HTTP2RequestHeadValidator`: RFC 9113 §8.1.1, §8.2, §8.3.1 on request heads and trailers.
@Suite struct HTTP2RequestHeadValidatorTests {
    static func fields(_ pairs: [(String, String)]) -> [HPACKHeaderField] { pairs.map { HPACKHeaderField($0.0, $0.1) } }

    /// The error `validateRequest` throws, if any (`#expect(throws:)` with a typed-throws call crashes the
    /// Swift 6.3.1 test runner with signal 11 here).
    static func requestError(_ pairs: [(String, String)]) -> HTTP2RequestHeadError? {
        do throws(HTTP2RequestHeadError) {
            _ = try HTTP2RequestHeadValidator.validateRequest(fields(pairs))
            return nil
        } catch {
            return error
        }
    }

    /// The error `validateTrailers` throws, if any.
    static func trailersError(_ pairs: [(String, String)]) -> HTTP2RequestHeadError? {
        do throws(HTTP2RequestHeadError) {
            try HTTP2RequestHeadValidator.validateTrailers(fields(pairs))
            return nil
        } catch {
            return error
        }
    }

    @Test func aRequestWithoutAuthority_butWithAMatchingHostAndCookies_isValid() throws {
        let summary = try HTTP2RequestHeadValidator.validateRequest(Self.fields([
            (":method", "POST"), (":scheme", "http"), (":path", "/a"), ("host", "example.com"),
            ("cookie", "a=1"), ("cookie", "b=2"), ("content-length", "12"), ("content-length", "12"), ("te", "trailers"),
        ]))
        #expect(summary.contentLength == 12)
    }

    @Test func connect_needsAuthority_andNeitherSchemeNorPath() throws {
        _ = try HTTP2RequestHeadValidator.validateRequest(Self.fields([(":method", "CONNECT"), (":authority", "a:443")]))
        #expect(Self.requestError([(":method", "CONNECT")]) == .missingPseudoHeader(":authority"))
        #expect(Self.requestError([(":method", "CONNECT"), (":authority", "a"), (":path", "/")]) == .invalidPseudoHeaderValue("CONNECT"))
    }

    @Test func errors_nameTheRuleBroken() {
        let base = [(":method", "GET"), (":scheme", "https"), (":path", "/")]
        #expect(Self.requestError(base + [(":path", "/b")]) == .duplicatePseudoHeader(":path"))
        #expect(Self.requestError(base + [("x y", "1")]) == .invalidFieldName("x y"))
        #expect(Self.requestError(base + [("x", " padded")]) == .invalidFieldValue(name: "x"))
        #expect(Self.requestError(base + [("keep-alive", "5")]) == .connectionSpecificField("keep-alive"))
        #expect(Self.requestError(base + [("content-length", "")]) == .invalidContentLength)
        #expect(Self.requestError(base + [("content-length", "1234567890123456789")]) == .invalidContentLength)
    }

    @Test func trailers_takeRegularFieldsOnly() throws {
        try HTTP2RequestHeadValidator.validateTrailers(Self.fields([("x-checksum", "abc")]))
        #expect(Self.trailersError([(":path", "/")]) == .misplacedPseudoHeader(":path"))
    }
}
