extension ResponseHead {
    /// Whether the upstream lets its connection stay open after this response (RFC 9112 §9.3): an HTTP/1.1
    /// response without the `close` connection option. An HTTP/1.0 response is never taken as persistent, even
    /// with `Connection: keep-alive` (what nginx does too: its keep-alive pool needs HTTP/1.1 upstreams).
    /// The body's framing must also be known for the connection to be reused; that is the caller's check.
    public var allowsConnectionReuse: Bool {
        version >= .http1_1 && !headers.containsToken("close", in: .connection)
    }
}
