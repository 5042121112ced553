import Testing

/// The reference client must itself be right before it can judge the tracker: these are the
/// examples of WHATWG HTML §9.2.6 "Interpreting an event stream" and the edge cases of §9.2.5.
/// Every input is fed three ways: whole, one byte at a time, and with a trailing partial line.
@Suite struct SpecEventStreamParserTests {
    typealias Event = SpecEventStreamParser.Event

    /// Parses `input` whole, byte by byte and with trailing bytes appended, checks the three agree,
    /// and returns the whole-input parser.
    static func parse(_ input: [UInt8], lastEventIdString: String = "") -> SpecEventStreamParser {
        var whole = SpecEventStreamParser(lastEventIdString: lastEventIdString)
        whole.feed(input)
        whole.finish()
        var byByte = SpecEventStreamParser(lastEventIdString: lastEventIdString)
        for byte in input { byByte.feed([byte]) }
        byByte.finish()
        var trailing = SpecEventStreamParser(lastEventIdString: lastEventIdString)
        trailing.feed(input)
        trailing.feed(Array("data: never dispatched".utf8))
        trailing.finish()
        #expect(whole.observation == byByte.observation)
        #expect(whole.events == trailing.events)
        return whole
    }

    static func parse(_ input: String, lastEventIdString: String = "") -> SpecEventStreamParser {
        parse(Array(input.utf8), lastEventIdString: lastEventIdString)
    }

    @Test func multiLineData_isJoinedWithLineFeeds() {
        let parser = Self.parse("data: YHOO\ndata: +2\ndata: 10\n\n")
        #expect(parser.events == [Event(type: "message", data: "YHOO\n+2\n10", lastEventId: "")])
    }

    @Test func specExample_commentsIdsAndUnterminatedEvent() {
        let parser = Self.parse(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n")
        #expect(
            parser.events == [
                Event(type: "message", data: "first event", lastEventId: "1"),
                Event(type: "message", data: "second event", lastEventId: ""),
            ])
    }

    @Test func specExample_emptyDataLines_dispatchEmptyAndLineFeedData() {
        let parser = Self.parse("data\n\ndata\ndata\n\ndata:")
        #expect(parser.events.map(\.data) == ["", "\n"])
    }

    @Test func specExample_oneLeadingSpaceIsRemoved() {
        let parser = Self.parse("data:test\n\ndata: test\n\ndata:  test\n\n")
        #expect(parser.events.map(\.data) == ["test", "test", " test"])
    }

    @Test func lineEnds_crLfAndCrlf_areEquivalent_evenWhenCrAndLfArriveSeparately() {
        let expected = [Event(type: "a", data: "1", lastEventId: ""), Event(type: "message", data: "2", lastEventId: "")]
        #expect(Self.parse("event: a\rdata: 1\r\rdata: 2\r\r").events == expected)
        #expect(Self.parse("event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n").events == expected)
        #expect(Self.parse("event: a\ndata: 1\r\n\rdata: 2\n\r\n").events == expected)
        var split = SpecEventStreamParser()
        split.feed(Array("data: 1\r".utf8))
        split.feed(Array("\n\r".utf8))
        split.feed(Array("\n".utf8))
        #expect(split.events == [Event(type: "message", data: "1", lastEventId: "")])
        split.feed(Array("data: 2\n\n".utf8))
        #expect(split.events.count == 2)
    }

    @Test func crCrLf_isTwoLineEnds() {
        // "\r\r\n": a CR, then a CRLF; the second line is blank and dispatches.
        #expect(Self.parse("data: x\r\r\n").events.map(\.data) == ["x"])
        // "\r\n\n": a CRLF then a LF: also dispatches.
        #expect(Self.parse("data: y\r\n\n").events.map(\.data) == ["y"])
    }

    @Test func leadingBom_isStrippedOnce_secondBomBelongsToTheFieldName() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(Self.parse(bom + Array("data: 1\n\n".utf8)).events.map(\.data) == ["1"])
        #expect(Self.parse(bom + bom + Array("data: 1\n\ndata: 2\n\n".utf8)).events.map(\.data) == ["2"])
        #expect(Self.parse(Array("data: 1\n\n".utf8) + bom + Array("data: 2\n\n".utf8)).events.map(\.data) == ["1"])
        var split = SpecEventStreamParser()
        split.feed([0xEF])
        split.feed([0xBB])
        #expect(split.events.isEmpty)
        split.feed([0xBF] + Array("data: 3\n\n".utf8))
        #expect(split.events.map(\.data) == ["3"])
    }

    @Test func bomLikePrefix_isContent() {
        let parser = Self.parse([0xEF, 0xBB] + Array("data: 1\n\ndata: 2\n\n".utf8))
        #expect(parser.events.map(\.data) == ["2"])
    }

    @Test func idContainingNull_isIgnored_andIdPersistsAcrossEvents() {
        let parser = Self.parse("id: 5\ndata: a\n\nid: x\u{0}y\ndata: b\n\ndata: c\n\nid\ndata: d\n\n")
        #expect(parser.events.map(\.lastEventId) == ["5", "5", "5", ""])
    }

    @Test func retry_acceptsOnlyAsciiDigits() {
        let parser = Self.parse("retry: 1000\nretry: 12a\nretry:\nretry: -1\nretry:  5\nretry: 007\nretry: ٣\nretry\n")
        #expect(parser.reconnectionTimes == ["1000", "7"])
    }

    @Test func unknownFieldsAndCaseVariants_areIgnored() {
        let parser = Self.parse("Data: a\nfoo: b\n data: c\ndata : d\nevent: e\n\n")
        #expect(parser.events.isEmpty)
        #expect(parser.dataBuffer.isEmpty)
    }

    @Test func emptyData_dispatchesNothing_butSetsLastEventIdString() {
        let parser = Self.parse("id: 9\nevent: x\n\n", lastEventIdString: "carried")
        #expect(parser.events.isEmpty)
        #expect(parser.lastEventIdString == "9")
        // A blank line with nothing pending still sets the string from this stream's (empty) buffer.
        #expect(Self.parse(": hi\n\n", lastEventIdString: "carried").lastEventIdString == "")
        #expect(Self.parse(": hi\n", lastEventIdString: "carried").lastEventIdString == "carried")
    }

    @Test func eventType_defaultsToMessage_andResetsAfterDispatch() {
        let parser = Self.parse("event: add\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n")
        #expect(parser.events.map(\.type) == ["add", "message", "message"])
    }

    @Test func incompleteEventAtEndOfStream_isDiscarded() {
        let parser = Self.parse("data: 1\n\ndata: 2\n")
        #expect(parser.events.map(\.data) == ["1"])
        #expect(parser.dataBuffer.isEmpty)
    }

    @Test func valuesWithColonsAndNonAscii_arePreserved() {
        let parser = Self.parse("data: a:b: c\ndata:日本 🎉\n\n")
        #expect(parser.events.map(\.data) == ["a:b: c\n日本 🎉"])
    }

    @Test func invalidUtf8_becomesReplacementCharacters_perMaximalSubpart() {
        // E2 82 is a truncated 3-byte sequence: one U+FFFD. F0 80: F0 then an invalid second byte: two.
        var parser = SpecEventStreamParser()
        parser.feed(Array("data: ".utf8) + [0xE2, 0x82] + Array("A".utf8) + [0xF0, 0x80, 0x0A, 0x0A])
        #expect(parser.events.map(\.data) == ["\u{FFFD}A\u{FFFD}\u{FFFD}"])
    }

    @Test func multiByteCharacterSplitAcrossReads_decodesWhole() {
        let bytes = Array("data: 🎉\n\n".utf8)
        var parser = SpecEventStreamParser()
        for index in bytes.indices { parser.feed([bytes[index]]) }
        #expect(parser.events.map(\.data) == ["🎉"])
    }
}
