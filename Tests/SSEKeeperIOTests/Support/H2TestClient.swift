import Foundation
import Glibc
@testable import SSEKeeperCore

/// A small HTTP/2 client over a real socket, for the proxy's HTTP/2 tests: it sends what a test asks, frame by
/// frame (so a test can also misbehave), and reads the server's frames with the frame parser and HPACK decoder.
/// Real clients (curl, nghttp, h2load, Python `h2`, Chromium) are driven by the interop suite; this one reaches
/// the corners they do not (small windows, resets at chosen moments, malformed heads).
final class H2TestClient {
    let socket: TestSocket
    private var parser = HTTP2FrameParser(start: .frames)
    private var decoder = HPACKDecoder()
    private var encoder = HPACKEncoder()
    private var inbound: [UInt8] = []
    /// Every frame received so far, in order.
    private(set) var frames: [HTTP2Frame] = []
    /// Decoded response heads by stream (interim ones too), DATA bytes by stream, and streams ended.
    private(set) var heads: [UInt32: [[HPACKHeaderField]]] = [:]
    private(set) var bodies: [UInt32: [UInt8]] = [:]
    private(set) var ended: Set<UInt32> = []
    private(set) var resets: [UInt32: HTTP2ErrorCode] = [:]
    private(set) var goaway: (lastStreamID: UInt32, code: HTTP2ErrorCode)?
    private(set) var closed = false
    /// The WINDOW_UPDATE increments received, by stream (0: the connection).
    private(set) var windowIncrements: [UInt32: Int] = [:]
    /// Whether DATA is acknowledged with WINDOW_UPDATEs at once (the stream and the connection).
    var returnsWindow = true

    /// Connects to `port` and sends the preface and `settings`.
    init(port: UInt16, settings: [HTTP2Setting] = []) throws {
        socket = try TestSocket.connect(port: port)
        socket.setReceiveTimeout(seconds: 0.2)
        var bytes = HTTP2FrameParser.clientPreface
        HTTP2FrameWriter.appendSettings(settings, to: &bytes)
        try socket.send(bytes)
    }

    /// Sends a request head on `stream`.
    func request(_ stream: UInt32, method: String = "GET", path: String, authority: String = "127.0.0.1",
                 extra: [(String, String)] = [], endStream: Bool = true) throws {
        var fields = [HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "http"),
                      HPACKHeaderField(":path", path), HPACKHeaderField(":authority", authority)]
        fields += extra.map { HPACKHeaderField($0.0, $0.1) }
        try sendHeaders(stream, fields, endStream: endStream)
    }

    /// Sends `fields` as one HEADERS frame, as they are (no checks: a test may send a malformed head).
    func sendHeaders(_ stream: UInt32, _ fields: [HPACKHeaderField], endStream: Bool) throws {
        let block = encoder.encode(fields)
        var bytes: [UInt8] = []
        block.withUnsafeBytes {
            HTTP2FrameWriter.appendHeaders(stream: stream, fieldBlock: $0, endStream: endStream, maxFrameSize: 16_384, to: &bytes)
        }
        try socket.send(bytes)
    }

    func sendData(_ stream: UInt32, _ payload: [UInt8], endStream: Bool) throws {
        try send(.data(stream: stream, payload: payload, endStream: endStream, paddingLength: nil))
    }

    func send(_ frame: HTTP2Frame) throws {
        var bytes: [UInt8] = []
        HTTP2FrameWriter.append(frame, to: &bytes)
        try socket.send(bytes)
    }

    /// Reads until `condition` holds or `seconds` pass; whether it holds.
    @discardableResult
    func read(seconds: Double = 5, until condition: (H2TestClient) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(self) {
            guard !closed, Date() < deadline else { return condition(self) }
            let some: [UInt8]
            do { some = try socket.receiveSome() } catch { continue }  // the receive timeout: look again
            if some.isEmpty {
                closed = true
                continue
            }
            inbound += some
            parseFrames()
        }
        return true
    }

    /// The `:status` of `stream`'s final head.
    func status(_ stream: UInt32) -> Int? {
        heads[stream]?.last.flatMap { $0.first { $0.name == Array(":status".utf8) } }.flatMap { Int(String(decoding: $0.value, as: UTF8.self)) }
    }

    /// The value of `name` in `stream`'s final head.
    func header(_ stream: UInt32, _ name: String) -> String? {
        heads[stream]?.last?.first { $0.name == Array(name.utf8) }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    func body(_ stream: UInt32) -> String { String(decoding: bodies[stream] ?? [], as: UTF8.self) }

    private func parseFrames() {
        var offset = 0
        while true {
            let result = inbound.withUnsafeBytes { raw in
                Result { () throws(HTTP2FrameError) in try parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }
            guard case .success(.frame(let frame, let consumed)) = result else { break }
            offset += consumed
            handle(frame)
        }
        inbound.removeFirst(offset)
    }

    private func handle(_ frame: HTTP2Frame) {
        frames.append(frame)
        switch frame {
        case .settings:
            try? send(.settingsAck)
        case .ping(let data):
            try? send(.pingAck(opaqueData: data))
        case .headers(let stream, let fragment, let endStream, _, _, _):
            if let fields = try? decoder.decode(fragment) { heads[stream, default: []].append(fields) }
            if endStream { ended.insert(stream) }
        case .data(let stream, let payload, let endStream, _):
            bodies[stream, default: []] += payload
            if endStream { ended.insert(stream) }
            if returnsWindow, !payload.isEmpty {
                try? send(.windowUpdate(stream: 0, increment: UInt32(payload.count)))
                if !endStream { try? send(.windowUpdate(stream: stream, increment: UInt32(payload.count))) }
            }
        case .rstStream(let stream, let code):
            resets[stream] = code
        case .windowUpdate(let stream, let increment):
            windowIncrements[stream, default: 0] += Int(increment)
        case .goaway(let last, let code, _):
            goaway = (last, code)
        default:
            break
        }
    }

    func close() { socket.close() }
}
