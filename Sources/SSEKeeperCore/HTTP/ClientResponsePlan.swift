/// What the proxy sends a client for one upstream response head: the head bytes and how to send the body.
public struct ClientResponsePlan: Sendable, Equatable {
    /// The bytes of the response head, through its final empty line.
    public var head: [UInt8]
    /// How the body must be framed after `head`.
    public var framing: ClientFraming
    /// Whether the client connection stays open for another request after this response.
    public var keepAlive: Bool

    /// Creates a plan.
    public init(head: [UInt8], framing: ClientFraming, keepAlive: Bool) {
        self.head = head
        self.framing = framing
        self.keepAlive = keepAlive
    }
}
