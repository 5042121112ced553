/// Comparisons whose running time does not depend on the compared bytes, for secrets an attacker may probe byte
/// by byte through timing (issue 15: a reconnect attaches only when its credentials and body digest equal the
/// original request's).
///
/// Contract: for two inputs of equal length the comparison reads every byte of both and folds the differences
/// with XOR and OR, without a branch or early exit that depends on their contents, so its time does not depend on
/// where (or whether) the first difference is. Inputs of different lengths return `false` at once: the length is
/// not hidden. A caller for whom the length is secret compares fixed-length digests instead (for example
/// `SHA256.hash` of both values). Swift offers no barrier against an optimizer that would turn the fold into an
/// early exit; none does today, and the loop is written so that there is nothing to gain from one.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes; time independent of their contents for equal lengths, an
    /// immediate `false` for different lengths. The caller keeps the memory; it is read only during the call.
    public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<a.count {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }

    /// Whether `a` and `b` hold the same bytes; time independent of their contents for equal lengths, an
    /// immediate `false` for different lengths.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in equal(a, b) } }
    }

    /// Whether `a` and `b` have the same UTF-8 bytes (no Unicode normalization: "é" precomposed and decomposed
    /// differ); time independent of their contents for equal UTF-8 lengths, an immediate `false` otherwise.
    public static func equal(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { a in b.withUTF8 { b in equal(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b)) } }
    }
}
