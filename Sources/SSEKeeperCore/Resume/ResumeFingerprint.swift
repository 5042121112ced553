/// What a reconnect must share with the request that opened a ridden-through stream before it may attach to it
/// (issue 15, "Nobody reads another's stream"): the method, the request-target, the values of the headers named by
/// `client_resume_match` (default `Authorization` and `Cookie`), and the body's SHA-256.
///
/// The parts are written into one SHA-256 as length-prefixed fields (so no two different requests share a
/// canonical form), and two fingerprints are compared in constant time (`ConstantTime`), so neither the values
/// nor how many bytes of them agree can be learnt from the time an attach takes. A fingerprint keeps no value of
/// the request: a mismatch can be logged without them.
///
/// Header names are matched case-insensitively (RFC 9110 §5.1); each named header contributes every line it has,
/// in order, and a header that is absent differs from one that is present but empty.
public struct ResumeFingerprint: Sendable, Equatable {
    /// The 32-byte digest of the canonical form.
    public let digest: [UInt8]

    /// The fingerprint of `head` with a body whose SHA-256 is `bodyDigest` (nil: a request without a body).
    public init(head: RequestHead, matching names: [String], bodyDigest: [UInt8]?) {
        var hasher = SHA256()
        Self.field(Array(head.method.utf8), into: &hasher)
        Self.field(Array(head.target.utf8), into: &hasher)
        for name in names {
            let values = head.headers.values(name)
            Self.field(Array(name.lowercased().utf8), into: &hasher)
            Self.count(values.count, into: &hasher)
            for value in values { Self.field(Array(value.utf8), into: &hasher) }
        }
        if let bodyDigest {
            Self.field(bodyDigest, into: &hasher)
        } else {
            Self.count(-1, into: &hasher)
        }
        digest = hasher.finalize()
    }

    /// Whether `other` is the fingerprint of an equal request; constant time in the digests' bytes.
    public func matches(_ other: ResumeFingerprint) -> Bool {
        ConstantTime.equal(digest, other.digest)
    }

    /// Equality is `matches` (constant time).
    public static func == (lhs: ResumeFingerprint, rhs: ResumeFingerprint) -> Bool { lhs.matches(rhs) }

    private static func field(_ bytes: [UInt8], into hasher: inout SHA256) {
        count(bytes.count, into: &hasher)
        hasher.update(bytes)
    }

    private static func count(_ value: Int, into hasher: inout SHA256) {
        withUnsafeBytes(of: Int64(value).bigEndian) { hasher.update($0) }
    }
}
