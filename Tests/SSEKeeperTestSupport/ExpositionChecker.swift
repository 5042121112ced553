/// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it accepts exactly the shape
/// ssekeeper promises and throws, with the line number, on anything else.
///
/// Rules checked (prometheus.io/docs/instrumenting/exposition_formats, "Text format details"):
/// - every line ends with `\n`; no empty lines; a comment is `# HELP name text` or `# TYPE name type`, nothing else;
/// - metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` (no `__` prefix);
/// - HELP text uses only the escapes `\\` and `\n`; label values only `\\`, `\"` and `\n`;
/// - TYPE is `counter`, `gauge` or `histogram`, once per family, before the family's first sample;
///   HELP at most once; a family's lines form one group (a family never comes back after another started);
/// - a sample is `name{labels} value` or `name value` with a float value and no timestamp; a counter's samples are
///   named like the family, which ends in `_total`, and are never negative; a histogram's are `_bucket` (with
///   `le`), `_sum` and `_count`;
/// - no duplicate series (same name and label set), no label twice in one sample;
/// - per histogram series: bounds strictly increasing, counts cumulative (non-decreasing), the last bucket is
///   `le="+Inf"` and equals `_count`; `_sum` and `_count` present.
///
/// Lives in `SSEKeeperTestSupport`, a library target only the two test targets depend on, so both check metrics
/// with this one copy and nothing of it reaches the `ssekeeper` binary.
public struct ExpositionChecker {
    /// One parsed sample.
    public struct Sample: Equatable {
        /// The sample's metric name (`x_bucket` for a histogram family `x`).
        public var name: String
        /// Label names to unescaped values.
        public var labels: [String: String]
        /// The value, parsed as Go's `ParseFloat` would.
        public var value: Double
    }

    /// One family: its TYPE, HELP and samples in order.
    public struct Family {
        /// The family name from `# TYPE`.
        public var name: String
        /// `counter`, `gauge` or `histogram`.
        public var type: String
        /// The unescaped `# HELP` text, if any.
        public var help: String?
        /// Its samples, in order.
        public var samples: [Sample] = []
    }

    /// The first violation found.
    public struct Failure: Error, CustomStringConvertible {
        /// The 1-based line number (0 for the text as a whole).
        public var line: Int
        /// What is wrong, with the offending line.
        public var message: String
        /// `exposition line N: message`.
        public var description: String { "exposition line \(line): \(message)" }
    }

    /// Families by name.
    public private(set) var families: [String: Family] = [:]
    /// Family names in order of appearance.
    public private(set) var order: [String] = []

    /// Parses and checks `text`; throws the first violation.
    public init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw Failure(line: 0, message: "the text does not end with a line feed") }
        var helps: [String: String] = [:]
        var current: String?
        var finished: Set<String> = []
        var series: Set<String> = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for (offset, rawLine) in lines.enumerated() {
            let number = offset + 1
            let line = String(rawLine)
            func fail(_ message: String) -> Failure { Failure(line: number, message: "\(message): \(line.debugDescription)") }
            if line.isEmpty { throw fail("empty line") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else {
                    throw fail("a comment that is not HELP or TYPE")
                }
                let name = parts[2]
                guard Self.isMetricName(name) else { throw fail("invalid metric name") }
                if current != name {
                    if let current { finished.insert(current) }
                    guard !finished.contains(name) else { throw fail("family \(name) comes back after another family") }
                    current = name
                }
                if parts[1] == "HELP" {
                    guard helps[name] == nil else { throw fail("second HELP") }
                    let help = parts.count == 4 ? parts[3] : ""
                    guard Self.unescape(help, allowingQuote: false) != nil else { throw fail("bad escape in HELP") }
                    helps[name] = help
                    families[name]?.help = help
                } else {
                    guard parts.count == 4, ["counter", "gauge", "histogram"].contains(parts[3]) else { throw fail("TYPE must be counter, gauge or histogram") }
                    guard families[name] == nil else { throw fail("second TYPE, or TYPE after samples") }
                    if parts[3] == "counter", !name.hasSuffix("_total") { throw fail("counter family not named *_total") }
                    families[name] = Family(name: name, type: parts[3], help: helps[name])
                    order.append(name)
                }
                continue
            }
            let sample = try Self.parseSample(line, fail: fail)
            guard let family = current, let type = families[family]?.type else { throw fail("sample before its family's TYPE") }
            switch type {
            case "histogram":
                guard [family + "_bucket", family + "_sum", family + "_count"].contains(sample.name) else {
                    throw fail("sample \(sample.name) does not belong to histogram \(family)")
                }
                if sample.name.hasSuffix("_bucket"), sample.labels["le"] == nil { throw fail("bucket without le") }
                if !sample.name.hasSuffix("_bucket"), sample.labels["le"] != nil { throw fail("le outside a bucket") }
                guard sample.value >= 0 else { throw fail("negative histogram value") }
            case "counter":
                guard sample.name == family else { throw fail("sample \(sample.name) does not belong to counter \(family)") }
                guard sample.value >= 0 else { throw fail("negative counter") }
            default:
                guard sample.name == family else { throw fail("sample \(sample.name) does not belong to gauge \(family)") }
            }
            let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard series.insert(key).inserted else { throw fail("duplicate series") }
            families[family]!.samples.append(sample)
        }
        for name in order where families[name]!.type == "histogram" {
            try Self.checkHistogram(families[name]!)
        }
    }

    /// The value of the sample `name` with exactly `labels`, if present.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for family in families.values {
            if let sample = family.samples.first(where: { $0.name == name && $0.labels == labels }) { return sample.value }
        }
        return nil
    }

    /// Every sample named `name`.
    public func samples(_ name: String) -> [Sample] {
        families.values.flatMap { $0.samples.filter { $0.name == name } }
    }

    private static func checkHistogram(_ family: Family) throws {
        var groups: [[String: String]: [Sample]] = [:]
        var groupOrder: [[String: String]] = []
        for sample in family.samples {
            var key = sample.labels
            key["le"] = nil
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(sample)
        }
        for key in groupOrder {
            let samples = groups[key]!
            let buckets = samples.filter { $0.name.hasSuffix("_bucket") }
            guard let last = buckets.last, last.labels["le"] == "+Inf" else {
                throw Failure(line: 0, message: "\(family.name)\(key): the last bucket is not le=\"+Inf\"")
            }
            var previousBound = -Double.infinity
            var previousCount = -1.0
            for bucket in buckets {
                guard let bound = parseFloat(bucket.labels["le"]!) else { throw Failure(line: 0, message: "\(family.name): bad le \(bucket.labels["le"]!)") }
                guard bound > previousBound else { throw Failure(line: 0, message: "\(family.name)\(key): bounds not increasing at le=\(bound)") }
                guard bucket.value >= previousCount else { throw Failure(line: 0, message: "\(family.name)\(key): buckets not cumulative at le=\(bound)") }
                previousBound = bound
                previousCount = bucket.value
            }
            guard let count = samples.first(where: { $0.name.hasSuffix("_count") }),
                  samples.contains(where: { $0.name.hasSuffix("_sum") }) else {
                throw Failure(line: 0, message: "\(family.name)\(key): _sum or _count missing")
            }
            guard count.value == last.value else {
                throw Failure(line: 0, message: "\(family.name)\(key): +Inf bucket \(last.value) differs from _count \(count.value)")
            }
        }
    }

    private static func parseSample(_ line: String, fail: (String) -> Failure) throws -> Sample {
        let bytes = Array(line.utf8)
        var index = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: "{"), bytes[index] != UInt8(ascii: " ") { index += 1 }
        let name = String(decoding: bytes[..<index], as: UTF8.self)
        guard isMetricName(name) else { throw fail("invalid metric name") }
        var labels: [String: String] = [:]
        if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
            index += 1
            while true {
                let nameStart = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "=") { index += 1 }
                let label = String(decoding: bytes[nameStart..<index], as: UTF8.self)
                guard isLabelName(label) else { throw fail("invalid label name \(label.debugDescription)") }
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") else { throw fail("label value not quoted") }
                index += 2
                var raw: [UInt8] = []
                var closed = false
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\") {
                        guard index + 1 < bytes.count else { break }
                        raw.append(byte)
                        raw.append(bytes[index + 1])
                        index += 2
                        continue
                    }
                    if byte == UInt8(ascii: "\"") { closed = true; index += 1; break }
                    raw.append(byte)
                    index += 1
                }
                guard closed, let value = unescape(String(decoding: raw, as: UTF8.self), allowingQuote: true) else {
                    throw fail("bad label value")
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw fail("label \(label) twice") }
                guard index < bytes.count else { throw fail("unterminated label set") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected , or } after a label") }
                index += 1
                break
            }
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: " ") else { throw fail("no single space before the value") }
        let valueText = String(decoding: bytes[(index + 1)...], as: UTF8.self)
        guard !valueText.contains(" ") else { throw fail("a timestamp or extra field") }
        guard let value = parseFloat(valueText) else { throw fail("value is not a float") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Go `ParseFloat` syntax as the format allows: decimal or exponent notation, `+Inf`, `-Inf`, `NaN`.
    static func parseFloat(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.utf8.allSatisfy({ "0123456789.eE+-".utf8.contains($0) }) else { return nil }
            return Double(text)
        }
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else { return false }
        return !name.hasPrefix("__")
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    /// Resolves `\\`, `\n` (and `\"` when `allowingQuote`); nil on any other escape, a raw line feed, or a raw `"`
    /// in a label value.
    static func unescape(_ text: String, allowingQuote: Bool) -> String? {
        var out = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\n" { return nil }
            if allowingQuote, scalar == "\"" { return nil }
            guard scalar == "\\" else { out.unicodeScalars.append(scalar); continue }
            switch iterator.next() {
            case "\\": out += "\\"
            case "n": out += "\n"
            case "\"" where allowingQuote: out += "\""
            default: return nil
            }
        }
        return out
    }
}
