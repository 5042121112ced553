/// Tells an HTTP/2 connection from an HTTP/1.1 one by its first bytes (RFC 9113 §3.4): a client speaking HTTP/2
/// (after ALPN `h2`, or with prior knowledge on an `h2c` listener) starts with the 24-byte connection preface
/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, which no HTTP/1.1 request can start with.
public enum HTTP2Preface {
    /// What the bytes received so far say.
    public enum Match: Sendable, Equatable {
        /// A proper prefix of the preface: wait for more.
        case incomplete
        /// The preface is there: HTTP/2.
        case matches
        /// Not the preface: HTTP/1.1.
        case differs
    }

    /// Compares the start of `received` with the preface.
    public static func match(_ received: [UInt8]) -> Match {
        let preface = HTTP2FrameParser.clientPreface
        let count = min(received.count, preface.count)
        for index in 0..<count where received[index] != preface[index] { return .differs }
        return count == preface.count ? .matches : .incomplete
    }
}
