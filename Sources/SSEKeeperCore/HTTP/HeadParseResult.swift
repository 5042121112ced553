/// The answer of `HeadParser` for the bytes seen so far.
public enum HeadParseResult<Head> {
    /// The empty line that ends the head has not arrived yet: read more, append, and call again with the
    /// whole buffer.
    case needMore
    /// The head is complete and occupied the first `consumed` bytes of the buffer (leading empty lines and the
    /// final empty line included); the bytes after them are body or a pipelined message.
    case complete(Head, consumed: Int)
}

extension HeadParseResult: Sendable where Head: Sendable {}
extension HeadParseResult: Equatable where Head: Equatable {}
