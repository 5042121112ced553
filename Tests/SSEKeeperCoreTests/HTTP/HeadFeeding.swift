import Testing
@testable import SSEKeeperCore

/// What a head parser made of some input, comparable across the three ways of feeding it.
enum HeadOutcome<Head: Equatable>: Equatable {
    case complete(Head, consumed: Int)
    case needMore
    case failed(HTTPParseError)

    /// The head, when complete.
    var head: Head? {
        if case .complete(let head, _) = self { return head }
        return nil
    }

    /// The error, when failed.
    var error: HTTPParseError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

/// Feeds heads to fresh `HeadParser`s three ways (habit 2 of STYLE.md): the whole input at once, one byte at a
/// time in a growing buffer (as the shell accumulates reads), and followed by trailing bytes (a body or a
/// pipelined request), and expects the same outcome each way.
enum HeadFeeding {
    /// Bytes after the head: a body line, an empty line and the start of another request.
    static let trailingBytes = Array("body bytes\r\n\r\nGET /next HTTP/1.1\r\n".utf8)

    /// The default limits for these tests.
    static let parser = HeadParser(maxHeaderBytes: 16_384)

    static func request(
        _ text: String,
        parser: HeadParser = HeadFeeding.parser,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> HeadOutcome<RequestHead> {
        threeWays(Array(text.utf8), parser: parser, sourceLocation: sourceLocation) { parser, bytes throws(HTTPParseError) in
            try parser.parseRequest(bytes)
        }
    }

    static func response(
        _ text: String,
        parser: HeadParser = HeadFeeding.parser,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> HeadOutcome<ResponseHead> {
        threeWays(Array(text.utf8), parser: parser, sourceLocation: sourceLocation) { parser, bytes throws(HTTPParseError) in
            try parser.parseResponse(bytes)
        }
    }

    /// Feeds `bytes` the three ways; records an issue where they disagree and returns the whole-input outcome.
    /// An incomplete input (`.needMore`) is not fed with trailing bytes: they would be part of the head.
    static func threeWays<Head: Equatable>(
        _ bytes: [UInt8],
        parser: HeadParser,
        sourceLocation: SourceLocation,
        parse: (inout HeadParser, UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<Head>
    ) -> HeadOutcome<Head> {
        let whole = once(bytes[...], parser: parser, parse: parse)
        let byteByByte = oneByteAtATime(bytes, parser: parser, parse: parse)
        #expect(byteByByte == whole, "one byte at a time differs from whole", sourceLocation: sourceLocation)
        if whole != .needMore {
            let trailing = once((bytes + trailingBytes)[...], parser: parser, parse: parse)
            #expect(trailing == whole, "with trailing bytes differs from whole", sourceLocation: sourceLocation)
        }
        return whole
    }

    private static func once<Head: Equatable>(
        _ bytes: ArraySlice<UInt8>,
        parser: HeadParser,
        parse: (inout HeadParser, UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<Head>
    ) -> HeadOutcome<Head> {
        var parser = parser
        return step(bytes, parser: &parser, parse: parse)
    }

    private static func oneByteAtATime<Head: Equatable>(
        _ bytes: [UInt8],
        parser: HeadParser,
        parse: (inout HeadParser, UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<Head>
    ) -> HeadOutcome<Head> {
        var parser = parser
        var outcome = HeadOutcome<Head>.needMore
        for length in 0...bytes.count {
            outcome = step(bytes[..<length], parser: &parser, parse: parse)
            if outcome != .needMore { return outcome }
        }
        return outcome
    }

    /// The bytes as a String, for comparing builder output with a literal.
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private static func step<Head: Equatable>(
        _ bytes: ArraySlice<UInt8>,
        parser: inout HeadParser,
        parse: (inout HeadParser, UnsafeRawBufferPointer) throws(HTTPParseError) -> HeadParseResult<Head>
    ) -> HeadOutcome<Head> {
        bytes.withUnsafeBytes { buffer in
            do throws(HTTPParseError) {
                switch try parse(&parser, buffer) {
                case .needMore: return .needMore
                case .complete(let head, let consumed): return .complete(head, consumed: consumed)
                }
            } catch {
                return .failed(error)
            }
        }
    }
}
