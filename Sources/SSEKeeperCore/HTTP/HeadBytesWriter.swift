/// Appends the bytes of a message head; every write is ASCII or the UTF-8 of an already validated string.
///
/// Writes into a buffer of its own and copies it out once (`bytes`): appending to a `[UInt8]` cost about 100
/// instructions per append (the array's uniqueness and capacity checks around each copy; callgrind), and a head is
/// some 40 appends.
struct HeadBytesWriter: ~Copyable {
    private var storage: UnsafeMutableRawPointer
    private var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        storage = .allocate(byteCount: self.capacity, alignment: 1)
    }

    deinit {
        storage.deallocate()
    }

    /// The head written so far.
    var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: storage, count: count))
    }

    /// An estimate of the encoded size of `headers`, for `init(capacity:)`.
    static func estimatedSize(of headers: HTTPHeaders) -> Int {
        headers.fields.reduce(256) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    /// Room for `extra` more bytes (doubling, so an underestimate costs a few copies, not one per append).
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(count + extra, capacity * 2)
        let larger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 1)
        larger.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = larger
        capacity = grown
    }

    /// Appends `byte`.
    @inline(__always)
    mutating func append(byte: UInt8) {
        reserve(1)
        storage.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends two bytes (`": "`, CRLF) with one capacity check.
    @inline(__always)
    private mutating func append(_ first: UInt8, _ second: UInt8) {
        reserve(2)
        storage.storeBytes(of: first, toByteOffset: count, as: UInt8.self)
        storage.storeBytes(of: second, toByteOffset: count + 1, as: UInt8.self)
        count += 2
    }

    /// Appends `text`'s UTF-8.
    mutating func append(_ text: String) {
        let copied = text.utf8.withContiguousStorageIfAvailable { source -> Bool in
            reserve(source.count)
            if let base = source.baseAddress { (storage + count).copyMemory(from: base, byteCount: source.count) }
            count += source.count
            return true
        } ?? false
        if copied { return }
        let utf8 = text.utf8
        reserve(utf8.count)
        _ = UnsafeMutableRawBufferPointer(start: storage + count, count: utf8.count).initializeMemory(as: UInt8.self, from: utf8)
        count += utf8.count
    }

    /// Appends a literal's UTF-8, copied from the literal's own bytes: appended as a `String`, a literal went
    /// through `withContiguousStorageIfAvailable`, about 57 instructions (callgrind) for a few bytes.
    mutating func append(literal text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        (storage + count).copyMemory(from: text.utf8Start, byteCount: length)
        count += length
    }

    /// `name: value CRLF` for a name ssekeeper writes itself.
    mutating func appendField(literal name: StaticString, _ value: String) {
        append(literal: name)
        append(HTTPSyntax.colon, HTTPSyntax.space)
        append(value)
        appendLineEnd()
    }

    /// A whole field line ssekeeper writes itself, name and value, as one literal ending in CRLF
    /// (`"Connection: close\r\n"`): one copy, where the name and the value apart were four appends.
    mutating func appendFieldLine(literal line: StaticString) {
        assert(line.utf8CodeUnitCount >= 4 && line.utf8Start[line.utf8CodeUnitCount - 2] == HTTPSyntax.cr
               && line.utf8Start[line.utf8CodeUnitCount - 1] == HTTPSyntax.lf, "a field line ends in CRLF")
        append(literal: line)
    }

    /// `name: value CRLF`.
    mutating func appendField(_ name: String, _ value: String) {
        append(name)
        append(HTTPSyntax.colon, HTTPSyntax.space)
        append(value)
        appendLineEnd()
    }

    mutating func appendLineEnd() {
        append(HTTPSyntax.cr, HTTPSyntax.lf)
    }

    /// `HTTP/1.1 status reason CRLF` (RFC 9112 §4).
    mutating func appendStatusLine(status: Int, reason: String) {
        if status == 200 && reason == "OK" {
            // Nearly every response: one copy for the line.
            append(literal: "HTTP/1.1 200 OK\r\n")
            return
        }
        append(literal: "HTTP/1.1 ")
        if (100...999).contains(status) {
            // Three digits as bytes: `String(status)` cost about a hundred instructions.
            append(byte: UInt8(0x30 + status / 100))
            append(byte: UInt8(0x30 + status / 10 % 10))
            append(byte: UInt8(0x30 + status % 10))
        } else {
            append(String(status))
        }
        append(byte: HTTPSyntax.space)
        append(reason)
        appendLineEnd()
    }
}
