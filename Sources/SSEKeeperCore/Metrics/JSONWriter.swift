/// Writes JSON text (RFC 8259) into a string, with commas and nesting tracked for the caller.
///
/// Usage: `beginObject()`, then `key(_:)` before every value, values (`string`, `integer`, `number`, `bool`,
/// `null`, or a nested object or array), `endObject()`. Strings are escaped per RFC 8259 §7: `"` and `\`, and
/// every control character U+0000-U+001F (as `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`); U+2028 and U+2029 are
/// escaped too, so the text is also valid JavaScript. Swift strings are always valid Unicode, so the output is
/// valid UTF-8. A misuse (a value where a key is due, an unbalanced end) traps: the callers are ssekeeper's own.
public struct JSONWriter {
    private enum Container {
        case object(hasMembers: Bool, expectingValue: Bool)
        case array(hasElements: Bool)
    }

    /// The JSON text so far.
    public private(set) var text = ""
    private var stack: [Container] = []

    public init() {}

    public mutating func beginObject() {
        beforeValue()
        text += "{"
        stack.append(.object(hasMembers: false, expectingValue: false))
    }

    public mutating func endObject() {
        guard case .object(_, false) = stack.popLast() else { preconditionFailure("endObject outside an object or after a key") }
        text += "}"
    }

    public mutating func beginArray() {
        beforeValue()
        text += "["
        stack.append(.array(hasElements: false))
    }

    public mutating func endArray() {
        guard case .array = stack.popLast() else { preconditionFailure("endArray outside an array") }
        text += "]"
    }

    /// The name of the next object member.
    public mutating func key(_ name: String) {
        guard case .object(let hasMembers, false) = stack.last else { preconditionFailure("key outside an object or twice") }
        if hasMembers { text += "," }
        Self.appendQuoted(name, to: &text)
        text += ":"
        stack[stack.count - 1] = .object(hasMembers: true, expectingValue: true)
    }

    public mutating func string(_ value: String) {
        beforeValue()
        Self.appendQuoted(value, to: &text)
    }

    /// A string, or `null` when `value` is nil.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func integer<T: BinaryInteger>(_ value: T) {
        beforeValue()
        text += String(value)
    }

    /// Seconds from nanoseconds, exact to `fractionDigits` digits (`12.004`): `TimeAmount.Style.decimal`.
    public mutating func seconds(nanos: UInt64, fractionDigits: Int = 3) {
        beforeValue()
        text += TimeAmount(nanoseconds: nanos).formatted(.decimal(fractionDigits: fractionDigits))
    }

    public mutating func bool(_ value: Bool) {
        beforeValue()
        text += value ? "true" : "false"
    }

    public mutating func null() {
        beforeValue()
        text += "null"
    }

    /// `key(name)` then `string(value)` (or `null`).
    public mutating func member(_ name: String, _ value: String?) {
        key(name)
        string(value)
    }

    /// `key(name)` then `integer(value)`.
    public mutating func member<T: BinaryInteger>(_ name: String, _ value: T) {
        key(name)
        integer(value)
    }

    private mutating func beforeValue() {
        switch stack.last {
        case nil:
            precondition(text.isEmpty, "a second top-level value")
        case .object(let hasMembers, let expectingValue):
            precondition(expectingValue, "an object member needs a key first")
            stack[stack.count - 1] = .object(hasMembers: hasMembers, expectingValue: false)
        case .array(let hasElements):
            if hasElements { text += "," }
            stack[stack.count - 1] = .array(hasElements: true)
        }
    }

    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        var out = ""
        appendQuoted(value, to: &out)
        return out
    }

    static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
