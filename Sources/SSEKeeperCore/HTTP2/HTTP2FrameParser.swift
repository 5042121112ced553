/// An incremental parser of the frames a client sends (RFC 9113 §3.4, §4, §6), in the shape of `HeadParser`:
/// the caller keeps its receive buffer and calls `parse` with the unconsumed bytes.
///
/// The parser holds O(1) state and never copies more than one frame's payload, so memory is bounded by the
/// caller's buffer, which never needs more than `9 + limits.maxFrameSize` bytes (the length is checked as soon
/// as the 9-byte header is there), plus whatever field-block fragments the caller collects for HPACK, which
/// the parser bounds by `limits.maxHeaderBlockBytes`.
///
/// Rules enforced here, each with the error code and scope RFC 9113 gives it:
/// - §3.4: the client preface first (`.notHTTP2` if the bytes are something else), then SETTINGS without ACK.
/// - §4.2: a frame longer than `limits.maxFrameSize` is a connection FRAME_SIZE_ERROR, whatever its type (§5.4.1
///   lets us treat the stream-scoped cases as connection errors, and we do not want to skip megabytes).
/// - §6: stream 0 or not per type (PROTOCOL_ERROR), fixed and minimum lengths (FRAME_SIZE_ERROR), padding
///   (PROTOCOL_ERROR), WINDOW_UPDATE increment 0, SETTINGS values (§6.5.2 via `HTTP2Settings.validate`).
/// - §6.10: after HEADERS without END_HEADERS, only CONTINUATION of the same stream (PROTOCOL_ERROR); the
///   block's fragments are bounded by `limits.maxHeaderBlockBytes` and `limits.maxContinuationFrames`, past
///   which the connection fails with ENHANCE_YOUR_CALM: a CONTINUATION flood (CVE-2024-27316 family) is an
///   attack, not a large request, so it gets GOAWAY rather than a 431 (the HPACK decoder answers 431 for a
///   decoded list over SETTINGS_MAX_HEADER_LIST_SIZE, which is a smaller limit than this one).
/// - §8.4: PUSH_PROMISE from a client is a connection PROTOCOL_ERROR.
/// Stream errors (§5.4.2) are returned as `.streamError` and parsing goes on: PRIORITY of the wrong length
/// (FRAME_SIZE_ERROR) or depending on itself (PROTOCOL_ERROR), WINDOW_UPDATE of 0 on a stream (PROTOCOL_ERROR).
/// A HEADERS frame depending on itself is made a connection error: its field block would otherwise have to be
/// decoded anyway to keep HPACK in step, and §5.4.1 allows treating any stream error as a connection error.
/// Unknown frame types are returned as `.unknown` for the caller to ignore (§5.5). Stream states (§5.1) and
/// flow control (§6.9) need the connection's state and are not checked here.
///
/// After a connection error the parser is spent: every later call throws the same error.
public struct HTTP2FrameParser: Sendable {
    /// The client connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4), 24 bytes.
    public static let clientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// The frame header's length, 9 bytes (RFC 9113 §4.1).
    public static let frameHeaderLength = 9

    /// Where the byte stream starts.
    public enum Start: Sendable {
        /// A server's connection: the client preface, then a SETTINGS frame (RFC 9113 §3.4).
        case clientPreface
        /// Straight into frames, with no preface or first-SETTINGS rule (for tests and tools).
        case frames
    }

    private enum Phase: Sendable {
        case awaitingPreface
        case awaitingSettings
        case frames
        case failed(HTTP2FrameError)
    }

    /// The field block a HEADERS frame without END_HEADERS opened (§6.10).
    private struct OpenFieldBlock: Sendable {
        var stream: UInt32
        var bytes: Int
        var continuations: Int
    }

    /// The limits in force. `maxFrameSize` may be raised once the peer has acknowledged our SETTINGS.
    public var limits: HTTP2FrameLimits
    private var phase: Phase
    private var openBlock: OpenFieldBlock?

    /// A parser for one connection.
    public init(limits: HTTP2FrameLimits = HTTP2FrameLimits(), start: Start = .clientPreface) {
        self.limits = limits
        self.phase = start == .clientPreface ? .awaitingPreface : .frames
    }

    /// The stream whose field block is open (HEADERS without END_HEADERS so far), if any.
    public var openFieldBlockStream: UInt32? { openBlock?.stream }

    /// Reads the preface or one frame from the start of `input`, the caller's unconsumed bytes.
    ///
    /// - Returns: `.needMore` (nothing consumed; call again with these bytes and more), `.notHTTP2` (only while
    ///   expecting the preface), `.preface`, `.frame` or `.streamError` with the bytes consumed.
    /// - Throws: a connection error (`scope == .connection`); the parser is then spent.
    public mutating func parse(_ input: UnsafeRawBufferPointer) throws(HTTP2FrameError) -> HTTP2FrameParseResult {
        switch phase {
        case .failed(let error):
            throw error
        case .awaitingPreface:
            let preface = Self.clientPreface
            for index in 0..<min(input.count, preface.count) where input[index] != preface[index] {
                return .notHTTP2
            }
            guard input.count >= preface.count else { return .needMore }
            phase = .awaitingSettings
            return .preface(consumed: preface.count)
        case .awaitingSettings, .frames:
            do throws(HTTP2FrameError) {
                return try parseFrame(input)
            } catch {
                phase = .failed(error)
                throw error
            }
        }
    }

    private mutating func parseFrame(_ input: UnsafeRawBufferPointer) throws(HTTP2FrameError) -> HTTP2FrameParseResult {
        guard input.count >= Self.frameHeaderLength else { return .needMore }
        let header = HTTP2FrameHeader(input)
        try checkBeforePayload(header)
        let total = Self.frameHeaderLength + header.length
        guard input.count >= total else { return .needMore }
        let payload = UnsafeRawBufferPointer(rebasing: input[Self.frameHeaderLength..<total])
        if case .awaitingSettings = phase { phase = .frames }
        switch try frame(header, payload) {
        case .success(let frame): return .frame(frame, consumed: total)
        case .failure(let error): return .streamError(error, consumed: total)
        }
    }

    /// The rules decided by the 9-byte header alone, checked before waiting for the payload.
    private func checkBeforePayload(_ header: HTTP2FrameHeader) throws(HTTP2FrameError) {
        guard header.length <= limits.maxFrameSize else {
            throw HTTP2FrameError(.connection, .frameSizeError,
                                  .frameTooLarge(type: header.type, length: header.length, maxFrameSize: limits.maxFrameSize))
        }
        let type = HTTP2FrameType(rawValue: header.type)
        if case .awaitingSettings = phase, type != .settings || header.has(HTTP2FrameFlag.ack) {
            throw HTTP2FrameError(.connection, .protocolError, .firstFrameNotSettings(type: header.type))
        }
        if let block = openBlock {
            guard type == .continuation, header.stream == block.stream else {
                throw HTTP2FrameError(.connection, .protocolError, .expectedContinuation(
                    stream: block.stream, receivedType: header.type, receivedStream: header.stream))
            }
            guard block.continuations < limits.maxContinuationFrames else {
                throw HTTP2FrameError(.connection, .enhanceYourCalm, .tooManyContinuations(
                    count: block.continuations + 1, limit: limits.maxContinuationFrames))
            }
            guard block.bytes + header.length <= limits.maxHeaderBlockBytes else {
                throw HTTP2FrameError(.connection, .enhanceYourCalm, .headerBlockTooLarge(
                    bytes: block.bytes + header.length, limit: limits.maxHeaderBlockBytes))
            }
        } else if type == .continuation {
            throw HTTP2FrameError(.connection, .protocolError, .unexpectedContinuation(stream: header.stream))
        }
        guard let type else { return }
        try checkStream(type, header.stream)
        try checkLength(type, header)
    }

    /// §6: which types belong to stream 0 and which to a stream.
    private func checkStream(_ type: HTTP2FrameType, _ stream: UInt32) throws(HTTP2FrameError) {
        switch type {
        case .settings, .ping, .goaway:
            guard stream == 0 else {
                throw HTTP2FrameError(.connection, .protocolError, .streamMustBeZero(type, stream: stream))
            }
        case .data, .headers, .priority, .rstStream, .pushPromise, .continuation:
            guard stream != 0 else { throw HTTP2FrameError(.connection, .protocolError, .streamMustNotBeZero(type)) }
            if type == .pushPromise {
                throw HTTP2FrameError(.connection, .protocolError, .pushPromiseReceived(stream: stream))
            }
        case .windowUpdate:
            return  // stream 0 is the connection window
        }
    }

    /// §6: fixed and minimum payload lengths that are connection errors (PRIORITY's is a stream error, later).
    private func checkLength(_ type: HTTP2FrameType, _ header: HTTP2FrameHeader) throws(HTTP2FrameError) {
        let length = header.length
        let valid: Bool
        switch type {
        case .data: valid = !header.has(HTTP2FrameFlag.padded) || length >= 1
        case .headers:
            valid = length >= (header.has(HTTP2FrameFlag.padded) ? 1 : 0) + (header.has(HTTP2FrameFlag.priority) ? 5 : 0)
        case .rstStream, .windowUpdate: valid = length == 4
        case .settings: valid = header.has(HTTP2FrameFlag.ack) ? length == 0 : length % 6 == 0
        case .ping: valid = length == 8
        case .goaway: valid = length >= 8
        case .priority, .pushPromise, .continuation: valid = true
        }
        guard valid else { throw HTTP2FrameError(.connection, .frameSizeError, .invalidLength(type, length: length)) }
        if type == .settings, length / 6 > limits.maxSettingsPerFrame {
            throw HTTP2FrameError(.connection, .enhanceYourCalm,
                                  .tooManySettings(count: length / 6, limit: limits.maxSettingsPerFrame))
        }
    }

    /// Builds the frame from a complete payload whose header passed `checkBeforePayload`; a stream error is
    /// returned as `.failure`, a connection error thrown.
    private mutating func frame(
        _ header: HTTP2FrameHeader,
        _ payload: UnsafeRawBufferPointer
    ) throws(HTTP2FrameError) -> Result<HTTP2Frame, HTTP2FrameError> {
        let stream = header.stream
        guard let type = HTTP2FrameType(rawValue: header.type) else {
            return .success(.unknown(type: header.type, flags: header.flags, stream: stream, length: header.length))
        }
        switch type {
        case .data:
            let (body, padding) = try unpadded(type, header, payload, fixedFields: 0)
            return .success(.data(stream: stream, payload: Array(body), endStream: header.has(HTTP2FrameFlag.endStream),
                                  paddingLength: padding))
        case .headers:
            let hasPriority = header.has(HTTP2FrameFlag.priority)
            let (rest, padding) = try unpadded(type, header, payload, fixedFields: hasPriority ? 5 : 0)
            var priority: HTTP2Priority?
            if hasPriority {
                let fields = Self.priority(UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<rest.startIndex + 5]))
                guard fields.dependency != stream else {
                    throw HTTP2FrameError(.connection, .protocolError, .selfDependency(stream: stream))
                }
                priority = fields
            }
            let fragment = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + (hasPriority ? 5 : 0))...])
            guard fragment.count <= limits.maxHeaderBlockBytes else {
                throw HTTP2FrameError(.connection, .enhanceYourCalm,
                                      .headerBlockTooLarge(bytes: fragment.count, limit: limits.maxHeaderBlockBytes))
            }
            let endHeaders = header.has(HTTP2FrameFlag.endHeaders)
            if !endHeaders { openBlock = OpenFieldBlock(stream: stream, bytes: fragment.count, continuations: 0) }
            return .success(.headers(stream: stream, fragment: Array(fragment), endStream: header.has(HTTP2FrameFlag.endStream),
                                     endHeaders: endHeaders, priority: priority, paddingLength: padding))
        case .priority:
            guard payload.count == 5 else {
                return .failure(HTTP2FrameError(.stream(stream), .frameSizeError, .invalidLength(.priority, length: payload.count)))
            }
            let fields = Self.priority(payload)
            guard fields.dependency != stream else {
                return .failure(HTTP2FrameError(.stream(stream), .protocolError, .selfDependency(stream: stream)))
            }
            return .success(.priority(stream: stream, fields))
        case .rstStream:
            return .success(.rstStream(stream: stream, errorCode: HTTP2ErrorCode(rawValue: Self.uint32(payload, at: 0))))
        case .settings:
            if header.has(HTTP2FrameFlag.ack) { return .success(.settingsAck) }
            var settings: [HTTP2Setting] = []
            settings.reserveCapacity(payload.count / 6)
            for offset in stride(from: 0, to: payload.count, by: 6) {
                let identifier = HTTP2SettingIdentifier(rawValue: UInt16(payload[offset]) << 8 | UInt16(payload[offset + 1]))
                let setting = HTTP2Setting(identifier, Self.uint32(payload, at: offset + 2))
                try HTTP2Settings.validate(setting)
                settings.append(setting)
            }
            return .success(.settings(settings))
        case .pushPromise:
            throw HTTP2FrameError(.connection, .protocolError, .pushPromiseReceived(stream: stream))  // checked earlier
        case .ping:
            let opaque = UInt64(Self.uint32(payload, at: 0)) << 32 | UInt64(Self.uint32(payload, at: 4))
            return .success(header.has(HTTP2FrameFlag.ack) ? .pingAck(opaqueData: opaque) : .ping(opaqueData: opaque))
        case .goaway:
            return .success(.goaway(lastStreamID: Self.uint32(payload, at: 0) & 0x7FFF_FFFF,
                                    errorCode: HTTP2ErrorCode(rawValue: Self.uint32(payload, at: 4)),
                                    debugData: Array(payload[8...])))
        case .windowUpdate:
            let increment = Self.uint32(payload, at: 0) & 0x7FFF_FFFF
            guard increment != 0 else {
                let error = HTTP2FrameError(stream == 0 ? .connection : .stream(stream), .protocolError,
                                            .zeroWindowIncrement(stream: stream))
                if stream == 0 { throw error }
                return .failure(error)
            }
            return .success(.windowUpdate(stream: stream, increment: increment))
        case .continuation:
            let endHeaders = header.has(HTTP2FrameFlag.endHeaders)
            if endHeaders {
                openBlock = nil
            } else {
                openBlock?.bytes += payload.count
                openBlock?.continuations += 1
            }
            return .success(.continuation(stream: stream, fragment: Array(payload), endHeaders: endHeaders))
        }
    }

    /// Splits off the Pad Length and padding (§6.1, §6.2): the bytes between, and the pad length if PADDED.
    /// `fixedFields` bytes (HEADERS' priority fields) must fit before the padding too.
    private func unpadded(
        _ type: HTTP2FrameType,
        _ header: HTTP2FrameHeader,
        _ payload: UnsafeRawBufferPointer,
        fixedFields: Int
    ) throws(HTTP2FrameError) -> (Slice<UnsafeRawBufferPointer>, Int?) {
        guard header.has(HTTP2FrameFlag.padded) else { return (payload[...], nil) }
        let padLength = Int(payload[0])
        guard padLength <= payload.count - 1 - fixedFields else {
            throw HTTP2FrameError(.connection, .protocolError,
                                  .paddingTooLong(type, padLength: padLength, payloadLength: payload.count))
        }
        return (payload[1..<payload.count - padLength], padLength)
    }

    private static func priority(_ bytes: UnsafeRawBufferPointer) -> HTTP2Priority {
        let word = uint32(bytes, at: 0)
        return HTTP2Priority(exclusive: word & 0x8000_0000 != 0, dependency: word & 0x7FFF_FFFF, weight: bytes[4])
    }

    private static func uint32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}

/// The 9-byte frame header (RFC 9113 §4.1), with the reserved bit of the stream identifier dropped.
private struct HTTP2FrameHeader {
    let length: Int
    let type: UInt8
    let flags: UInt8
    let stream: UInt32

    init(_ bytes: UnsafeRawBufferPointer) {
        length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        type = bytes[3]
        flags = bytes[4]
        stream = (UInt32(bytes[5]) << 24 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 8 | UInt32(bytes[8])) & 0x7FFF_FFFF
    }

    func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
}
