/// Why a Huffman-encoded string was rejected (RFC 7541 §5.2). Inside a header block each is a decoding error,
/// a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3).
public enum HPACKHuffmanError: Error, Sendable, Equatable, Hashable {
    /// The EOS symbol appeared inside the string.
    case endOfStringInString
    /// More than 7 bits of padding after the last symbol.
    case paddingTooLong
    /// The padding is not a prefix of EOS (not all one bits).
    case paddingNotAllOnes
    /// The decoded string would be longer than the caller's `maxLength`.
    case decodedTooLong(maxLength: Int)
}
