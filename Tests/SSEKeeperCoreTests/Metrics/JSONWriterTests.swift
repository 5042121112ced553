import Foundation
import Testing
@testable import SSEKeeperCore

struct JSONWriterTests {
    @Test func objectsAndArrays_getTheirCommas() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.beginObject()
        writer.member("a", 1)
        writer.member("b", "x")
        writer.member("c", nil as String?)
        writer.key("d")
        writer.beginArray()
        writer.bool(true)
        writer.seconds(nanos: 1_500_000_000)
        writer.endArray()
        writer.endObject()
        writer.beginObject()
        writer.endObject()
        writer.endArray()
        #expect(writer.text == #"[{"a":1,"b":"x","c":null,"d":[true,1.5]},{}]"#)
    }

    @Test func strings_areEscapedPerRFC8259() {
        #expect(JSONWriter.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONWriter.quoted("\n\r\t\u{08}\u{0C}") == #""\n\r\t\b\f""#)
        #expect(JSONWriter.quoted("\u{00}\u{1F}\u{7F}") == "\"\\u0000\\u001f\u{7F}\"")
        #expect(JSONWriter.quoted("\u{2028}é😀") == "\"\\u2028é😀\"")
    }

    /// Every control character, quote and backslash, with non-ASCII text around them, reads back identically
    /// through an independent parser (Foundation's).
    @Test func everyEscapedString_readsBackUnchanged() throws {
        var hostile = "start"
        for value in 0..<0x20 { hostile.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        hostile += "\"\\/é😀\u{2028}\u{2029}\u{7F}end"
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("value", hostile)
        writer.endObject()
        let decoded = try JSONSerialization.jsonObject(with: Data(writer.text.utf8)) as? [String: String]
        #expect(decoded?["value"] == hostile)
    }
}
