/// Serializes the frames the server sends (RFC 9113 §4.1, §6) by appending to a caller-owned buffer.
///
/// Each function reserves the room it needs once and appends in place: no intermediate arrays. Stream
/// identifiers and increments must fit 31 bits (the reserved bit is written as 0); payloads are split so no
/// frame exceeds `maxFrameSize`, which must be the peer's SETTINGS_MAX_FRAME_SIZE (at least 16,384, §4.2).
/// Only flags a type defines are ever set.
public enum HTTP2FrameWriter {
    /// SETTINGS with our pairs, in order (§6.5); an empty list is the valid empty server preface (§3.4).
    public static func appendSettings(_ settings: [HTTP2Setting], to buffer: inout [UInt8]) {
        reserve(9 + 6 * settings.count, in: &buffer)
        appendFrameHeader(length: 6 * settings.count, type: .settings, flags: 0, stream: 0, to: &buffer)
        for setting in settings {
            buffer.append(UInt8(truncatingIfNeeded: setting.identifier.rawValue >> 8))
            buffer.append(UInt8(truncatingIfNeeded: setting.identifier.rawValue))
            appendUInt32(setting.value, to: &buffer)
        }
    }

    /// SETTINGS with ACK and no payload (§6.5.3): we applied the peer's SETTINGS.
    public static func appendSettingsAck(to buffer: inout [UInt8]) {
        reserve(9, in: &buffer)
        appendFrameHeader(length: 0, type: .settings, flags: HTTP2FrameFlag.ack, stream: 0, to: &buffer)
    }

    /// PING without ACK (§6.7): our liveness probe; the peer answers with the same 8 bytes.
    public static func appendPing(opaqueData: UInt64, to buffer: inout [UInt8]) {
        appendPing(opaqueData: opaqueData, flags: 0, to: &buffer)
    }

    /// PING with ACK (§6.7): the answer to the peer's PING, echoing its 8 bytes.
    public static func appendPingAck(opaqueData: UInt64, to buffer: inout [UInt8]) {
        appendPing(opaqueData: opaqueData, flags: HTTP2FrameFlag.ack, to: &buffer)
    }

    /// GOAWAY (§6.8): the highest stream we may have processed, why, and optional debug bytes.
    /// - Precondition: `debugData.count + 8 <= maxFrameSize` of the peer; keep it short (it is for diagnostics).
    public static func appendGoaway(
        lastStreamID: UInt32,
        errorCode: HTTP2ErrorCode,
        debugData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        to buffer: inout [UInt8]
    ) {
        reserve(17 + debugData.count, in: &buffer)
        appendFrameHeader(length: 8 + debugData.count, type: .goaway, flags: 0, stream: 0, to: &buffer)
        appendUInt32(lastStreamID & 0x7FFF_FFFF, to: &buffer)
        appendUInt32(errorCode.rawValue, to: &buffer)
        buffer.append(contentsOf: debugData)
    }

    /// RST_STREAM (§6.4) on `stream` (non-zero) with `errorCode`.
    public static func appendRSTStream(stream: UInt32, errorCode: HTTP2ErrorCode, to buffer: inout [UInt8]) {
        reserve(13, in: &buffer)
        appendFrameHeader(length: 4, type: .rstStream, flags: 0, stream: stream, to: &buffer)
        appendUInt32(errorCode.rawValue, to: &buffer)
    }

    /// WINDOW_UPDATE (§6.9) on `stream` (0 for the connection) with `increment` in 1...2^31−1.
    public static func appendWindowUpdate(stream: UInt32, increment: UInt32, to buffer: inout [UInt8]) {
        reserve(13, in: &buffer)
        appendFrameHeader(length: 4, type: .windowUpdate, flags: 0, stream: stream, to: &buffer)
        appendUInt32(increment & 0x7FFF_FFFF, to: &buffer)
    }

    /// A field block as HEADERS followed by as many CONTINUATIONs as `maxFrameSize` requires (§6.2, §6.10);
    /// END_HEADERS on the last frame, END_STREAM (when asked) on the HEADERS frame, where §8.1 puts it.
    public static func appendHeaders(
        stream: UInt32,
        fieldBlock: UnsafeRawBufferPointer,
        endStream: Bool,
        maxFrameSize: Int,
        to buffer: inout [UInt8]
    ) {
        let frames = max(1, (fieldBlock.count + maxFrameSize - 1) / maxFrameSize)
        reserve(9 * frames + fieldBlock.count, in: &buffer)
        var offset = 0
        var first = true
        repeat {
            let end = min(fieldBlock.count, offset + maxFrameSize)
            var flags: UInt8 = end == fieldBlock.count ? HTTP2FrameFlag.endHeaders : 0
            if first && endStream { flags |= HTTP2FrameFlag.endStream }
            appendFrameHeader(length: end - offset, type: first ? .headers : .continuation, flags: flags,
                              stream: stream, to: &buffer)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: fieldBlock[offset..<end]))
            offset = end
            first = false
        } while offset < fieldBlock.count
    }

    /// `payload` as DATA frames of at most `maxFrameSize` bytes each (§6.1), END_STREAM on the last when asked;
    /// an empty payload makes one empty frame (useful only with `endStream`).
    public static func appendData(
        stream: UInt32,
        payload: UnsafeRawBufferPointer,
        endStream: Bool,
        maxFrameSize: Int,
        to buffer: inout [UInt8]
    ) {
        let frames = max(1, (payload.count + maxFrameSize - 1) / maxFrameSize)
        reserve(9 * frames + payload.count, in: &buffer)
        var offset = 0
        repeat {
            let end = min(payload.count, offset + maxFrameSize)
            let flags: UInt8 = end == payload.count && endStream ? HTTP2FrameFlag.endStream : 0
            appendFrameHeader(length: end - offset, type: .data, flags: flags, stream: stream, to: &buffer)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[offset..<end]))
            offset = end
        } while offset < payload.count
    }

    /// Any frame, as exactly one frame with the flags its fields say and zero padding bytes: the inverse of
    /// `HTTP2FrameParser` (for tests, fuzzing and tools; the server itself uses the functions above).
    /// - Precondition: the payload fits 24 bits.
    public static func append(_ frame: HTTP2Frame, to buffer: inout [UInt8]) {
        switch frame {
        case .data(let stream, let payload, let endStream, let paddingLength):
            let flags = (endStream ? HTTP2FrameFlag.endStream : 0) | (paddingLength == nil ? 0 : HTTP2FrameFlag.padded)
            appendPadded(type: .data, flags: flags, stream: stream, fixed: nil, body: payload, padding: paddingLength,
                         to: &buffer)
        case .headers(let stream, let fragment, let endStream, let endHeaders, let priority, let paddingLength):
            var flags = (endStream ? HTTP2FrameFlag.endStream : 0) | (endHeaders ? HTTP2FrameFlag.endHeaders : 0)
            flags |= (paddingLength == nil ? 0 : HTTP2FrameFlag.padded) | (priority == nil ? 0 : HTTP2FrameFlag.priority)
            appendPadded(type: .headers, flags: flags, stream: stream, fixed: priority, body: fragment,
                         padding: paddingLength, to: &buffer)
        case .priority(let stream, let priority):
            reserve(14, in: &buffer)
            appendFrameHeader(length: 5, type: .priority, flags: 0, stream: stream, to: &buffer)
            appendPriority(priority, to: &buffer)
        case .rstStream(let stream, let errorCode):
            appendRSTStream(stream: stream, errorCode: errorCode, to: &buffer)
        case .settings(let settings):
            appendSettings(settings, to: &buffer)
        case .settingsAck:
            appendSettingsAck(to: &buffer)
        case .ping(let opaqueData):
            appendPing(opaqueData: opaqueData, to: &buffer)
        case .pingAck(let opaqueData):
            appendPingAck(opaqueData: opaqueData, to: &buffer)
        case .goaway(let lastStreamID, let errorCode, let debugData):
            debugData.withUnsafeBytes { appendGoaway(lastStreamID: lastStreamID, errorCode: errorCode, debugData: $0, to: &buffer) }
        case .windowUpdate(let stream, let increment):
            appendWindowUpdate(stream: stream, increment: increment, to: &buffer)
        case .continuation(let stream, let fragment, let endHeaders):
            reserve(9 + fragment.count, in: &buffer)
            appendFrameHeader(length: fragment.count, type: .continuation,
                              flags: endHeaders ? HTTP2FrameFlag.endHeaders : 0, stream: stream, to: &buffer)
            buffer.append(contentsOf: fragment)
        case .unknown(let type, let flags, let stream, let length):
            reserve(9 + length, in: &buffer)
            appendFrameHeader(length: length, rawType: type, flags: flags, stream: stream, to: &buffer)
            buffer.append(contentsOf: repeatElement(0, count: length))
        }
    }

    // MARK: - Pieces

    private static func appendPadded(
        type: HTTP2FrameType,
        flags: UInt8,
        stream: UInt32,
        fixed priority: HTTP2Priority?,
        body: [UInt8],
        padding: Int?,
        to buffer: inout [UInt8]
    ) {
        let length = body.count + (priority == nil ? 0 : 5) + (padding.map { $0 + 1 } ?? 0)
        reserve(9 + length, in: &buffer)
        appendFrameHeader(length: length, type: type, flags: flags, stream: stream, to: &buffer)
        if let padding { buffer.append(UInt8(truncatingIfNeeded: padding)) }
        if let priority { appendPriority(priority, to: &buffer) }
        buffer.append(contentsOf: body)
        if let padding { buffer.append(contentsOf: repeatElement(0, count: padding)) }
    }

    private static func appendPing(opaqueData: UInt64, flags: UInt8, to buffer: inout [UInt8]) {
        reserve(17, in: &buffer)
        appendFrameHeader(length: 8, type: .ping, flags: flags, stream: 0, to: &buffer)
        appendUInt32(UInt32(truncatingIfNeeded: opaqueData >> 32), to: &buffer)
        appendUInt32(UInt32(truncatingIfNeeded: opaqueData), to: &buffer)
    }

    private static func appendPriority(_ priority: HTTP2Priority, to buffer: inout [UInt8]) {
        appendUInt32(priority.dependency & 0x7FFF_FFFF | (priority.exclusive ? 0x8000_0000 : 0), to: &buffer)
        buffer.append(priority.weight)
    }

    private static func appendFrameHeader(
        length: Int, type: HTTP2FrameType, flags: UInt8, stream: UInt32, to buffer: inout [UInt8]
    ) {
        appendFrameHeader(length: length, rawType: type.rawValue, flags: flags, stream: stream, to: &buffer)
    }

    /// The 9-byte header of §4.1: 24-bit length, type, flags, reserved bit 0 and 31-bit stream.
    private static func appendFrameHeader(
        length: Int, rawType: UInt8, flags: UInt8, stream: UInt32, to buffer: inout [UInt8]
    ) {
        precondition(length >= 0 && length <= 0xFF_FFFF, "HTTP/2 frame payload of \(length) bytes")
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length))
        buffer.append(rawType)
        buffer.append(flags)
        appendUInt32(stream & 0x7FFF_FFFF, to: &buffer)
    }

    private static func appendUInt32(_ value: UInt32, to buffer: inout [UInt8]) {
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value))
    }

    /// Makes room for `bytes` more, growing geometrically: `reserveCapacity` to the exact size on every call
    /// would reallocate for each small frame appended to a growing buffer.
    private static func reserve(_ bytes: Int, in buffer: inout [UInt8]) {
        let needed = buffer.count + bytes
        if buffer.capacity < needed { buffer.reserveCapacity(max(needed, 2 * buffer.capacity)) }
    }
}
