import Testing

@testable import SSEKeeperCore

/// The shared line machine against a naive reading of WHATWG HTML §9.2.5/§9.2.6 (strip one leading BOM, then end a
/// line at CRLF, LF or CR), fed whole, byte by byte and split at random.
@Suite struct SSELineMachineTests {
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// What a stream's lines are: the ended lines in order, the unterminated last line, whether a leading BOM was
    /// stripped, and where the parser stands at the end.
    struct Transcript: Equatable, CustomStringConvertible {
        var lines: [[UInt8]] = []
        var partial: [UInt8] = []
        var strippedByteOrderMark = false
        var position = SSELinePosition.lineStart

        var description: String {
            "lines \(lines.map { String(decoding: $0, as: UTF8.self) }) partial \(partial) "
                + "bom \(strippedByteOrderMark) \(position)"
        }
    }

    /// The reference: the whole stream at once, one byte at a time, no machine.
    static func reference(_ bytes: [UInt8]) -> Transcript {
        var transcript = Transcript()
        var rest = bytes[...]
        if rest.starts(with: bom) {
            transcript.strippedByteOrderMark = true
            rest = rest.dropFirst(3)
        }
        var index = rest.startIndex
        while index < rest.endIndex {
            let byte = rest[index]
            index += 1
            if byte == 0x0A || byte == 0x0D {
                transcript.lines.append(transcript.partial)
                transcript.partial = []
                if byte == 0x0D, index < rest.endIndex, rest[index] == 0x0A { index += 1 }
            } else {
                transcript.partial.append(byte)
            }
        }
        switch rest.last {
        case 0x0D: transcript.position = .afterCarriageReturn
        case 0x0A, nil: transcript.position = .lineStart
        default: transcript.position = .midLine
        }
        return transcript
    }

    /// Feeds `bytes` to a machine in reads of `lengths`, checks each step's contract, and records the lines.
    static func run(_ bytes: [UInt8], lengths: [Int]) -> Transcript {
        var machine = SSELineMachine()
        var transcript = Transcript()
        precondition(lengths.reduce(0, +) == bytes.count, "lengths must cover the stream")
        var start = 0
        bytes.withUnsafeBytes { raw in
            for length in lengths {
                let read = UnsafeRawBufferPointer(rebasing: raw[start..<start + length])
                start += length
                switch machine.matchByteOrderMark(read) {
                case .decided:
                    consume(read, machine: &machine, into: &transcript)
                case .held:
                    #expect(machine.heldByteCount > 0 || read.isEmpty)
                case .byteOrderMark(let end, let heldBefore):
                    #expect(end + heldBefore == 3)
                    transcript.strippedByteOrderMark = true
                    consume(UnsafeRawBufferPointer(rebasing: read[end...]), machine: &machine, into: &transcript)
                case .notByteOrderMark(let released):
                    SSELineMachine.withByteOrderMarkPrefix(released) {
                        consume($0, machine: &machine, into: &transcript)
                    }
                    consume(read, machine: &machine, into: &transcript)
                }
            }
        }
        SSELineMachine.withByteOrderMarkPrefix(machine.finishByteOrderMark()) {
            consume($0, machine: &machine, into: &transcript)
        }
        #expect(machine.heldByteCount == 0)
        transcript.position = machine.position
        return transcript
    }

    static func consume(_ read: UnsafeRawBufferPointer, machine: inout SSELineMachine, into transcript: inout Transcript) {
        guard let base = read.baseAddress else { return }
        var offset = 0
        while offset < read.count {
            let before = machine.position
            let step = machine.next(in: base, from: offset, to: read.count)
            switch step {
            case .blankLine:
                #expect(before != .midLine)
                #expect(read[offset] == 0x0A || read[offset] == 0x0D)
                transcript.lines.append([])
                offset += 1
            case .lineEnd(let content, let startsLine):
                #expect(content.lowerBound == offset)
                #expect(startsLine == (before != .midLine))
                #expect(!startsLine || !content.isEmpty)
                #expect(read[content.upperBound] == 0x0A || read[content.upperBound] == 0x0D)
                transcript.lines.append(transcript.partial + read[content])
                transcript.partial = []
                offset = content.upperBound + 1
            case .lineContinues(let content, let startsLine):
                #expect(content.lowerBound == offset && content.upperBound == read.count && !content.isEmpty)
                #expect(startsLine == (before != .midLine))
                transcript.partial += read[content]
                offset = content.upperBound
            case .lineFeedAfterCarriageReturn:
                #expect(before == .afterCarriageReturn && read[offset] == 0x0A)
                offset += 1
            }
            #expect(!read[offset...].isEmpty || offset == read.count)
        }
    }

    static func whole(_ text: String) -> Transcript {
        let bytes = Array(text.utf8)
        return run(bytes, lengths: [bytes.count])
    }

    static func steps(_ text: String) -> [SSELineMachine.Step] {
        var machine = SSELineMachine()
        var steps: [SSELineMachine.Step] = []
        Array(text.utf8).withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let step = machine.next(in: raw.baseAddress!, from: offset, to: raw.count)
                steps.append(step)
                switch step {
                case .lineEnd(let content, _): offset = content.upperBound + 1
                case .lineContinues(let content, _): offset = content.upperBound
                case .blankLine, .lineFeedAfterCarriageReturn: offset += 1
                }
            }
        }
        return steps
    }

    @Test func next_returnsOneStepPerLine_withTheCRLFTailAndBlankLinesAsTheirOwnSteps() {
        #expect(Self.steps("ab\r\n\ncd\rx") == [
            .lineEnd(content: 0..<2, startsLine: true), .lineFeedAfterCarriageReturn, .blankLine,
            .lineEnd(content: 5..<7, startsLine: true), .lineContinues(content: 8..<9, startsLine: true),
        ])
        let long = String(repeating: "x", count: 1_000)
        #expect(Self.steps(long + "\n") == [.lineEnd(content: 0..<1_000, startsLine: true)])
    }

    @Test func aLoneCarriageReturn_endsALine_andTwoInARowMakeABlankLine() {
        let transcript = Self.whole("a\rb\r\rc")
        #expect(transcript.lines == [Array("a".utf8), Array("b".utf8), []])
        #expect(transcript.partial == Array("c".utf8))
        #expect(transcript.position == .midLine)
        #expect(Self.steps("\r\r\n\n") == [.blankLine, .blankLine, .lineFeedAfterCarriageReturn, .blankLine])
    }

    @Test func aCRLF_isOneLineEnd_whereverTheReadsSplitIt() {
        let bytes = Array("data: a\r\ndata: b\r\n\r\n: c\r\n".utf8)
        let expected = [Array("data: a".utf8), Array("data: b".utf8), [], Array(": c".utf8)]
        #expect(Self.run(bytes, lengths: [bytes.count]).lines == expected)
        for cut in 0...bytes.count {
            let split = Self.run(bytes, lengths: [cut, bytes.count - cut])
            #expect(split.lines == expected, "cut at \(cut)")
            #expect(split.position == .lineStart)
        }
        #expect(Self.run(bytes, lengths: Array(repeating: 1, count: bytes.count)).lines == expected)
    }

    @Test func aCarriageReturnAtTheEndOfARead_waitsForTheNextRead_beforeALineFeedIsSwallowed() {
        let bytes = Array("a\r\rb".utf8)
        let transcript = Self.run(bytes, lengths: [2, 2])
        #expect(transcript.lines == [Array("a".utf8), []])
        #expect(transcript.partial == Array("b".utf8))
    }

    @Test func aLeadingByteOrderMark_isStripped_whereverTheReadsSplitIt() {
        let bytes = Self.bom + Array("data: x\n\n".utf8)
        let expected = [Array("data: x".utf8), []]
        for first in 0...bytes.count {
            for second in first...bytes.count {
                let split = Self.run(bytes, lengths: [first, second - first, bytes.count - second])
                #expect(split.strippedByteOrderMark, "cuts at \(first), \(second)")
                #expect(split.lines == expected, "cuts at \(first), \(second)")
            }
        }
    }

    @Test func aByteOrderMarkPrefix_isHeldAcrossReads_andReleasedAsContentWhenTheNextByteDiffers() {
        var machine = SSELineMachine()
        let bytes: [UInt8] = [0xEF, 0xBB, 0x41, 0x0A]
        bytes.withUnsafeBytes { raw in
            #expect(machine.matchByteOrderMark(UnsafeRawBufferPointer(rebasing: raw[0..<1])) == .held)
            #expect(machine.heldByteCount == 1)
            #expect(machine.matchByteOrderMark(UnsafeRawBufferPointer(rebasing: raw[1..<2])) == .held)
            #expect(machine.heldByteCount == 2)
            #expect(machine.matchByteOrderMark(UnsafeRawBufferPointer(rebasing: raw[2...])) == .notByteOrderMark(released: 2))
            #expect(machine.heldByteCount == 0)
            #expect(machine.matchByteOrderMark(UnsafeRawBufferPointer(rebasing: raw[2...])) == .decided)
        }
        #expect(Self.run(bytes, lengths: [1, 1, 2]).lines == [bytes.dropLast().map { $0 }])
        #expect(Self.run([0xEF, 0xBB], lengths: [1, 1]).partial == [0xEF, 0xBB])
        #expect(Self.run([0xEF, 0xBB, 0x0A], lengths: [2, 1]).lines == [[0xEF, 0xBB]])
    }

    @Test func aByteOrderMarkNotAtTheStart_isContent() {
        let afterLine = Self.whole("data: x\n\u{FEFF}: c\n")
        #expect(!afterLine.strippedByteOrderMark)
        #expect(afterLine.lines == [Array("data: x".utf8), Self.bom + Array(": c".utf8)])
        let second = Self.run(Self.bom + Self.bom + Array("x\n".utf8), lengths: [2, 2, 1, 3])
        #expect(second.strippedByteOrderMark)
        #expect(second.lines == [Self.bom + Array("x".utf8)])
        let afterBlank = Self.whole("\n\u{FEFF}")
        #expect(afterBlank.lines == [[]] && afterBlank.partial == Self.bom)
    }

    @Test func randomStreams_splitAnyWay_readTheSameLinesAsTheReference() {
        var rng = SplitMix64(seed: 0x5EE_11E)
        for _ in 0..<3_000 {
            let bytes = SSEStreamGenerator.stream(using: &rng)
            let expected = Self.reference(bytes)
            #expect(Self.run(bytes, lengths: [bytes.count]) == expected)
            #expect(Self.run(bytes, lengths: Array(repeating: 1, count: bytes.count)) == expected)
            let lengths = SSEStreamGenerator.chunkLengths(count: bytes.count, bytes: bytes, using: &rng)
            #expect(Self.run(bytes, lengths: lengths) == expected, "lengths \(lengths)")
        }
    }
}
