/// Writes metrics in the Prometheus text exposition format, version 0.0.4
/// (prometheus.io/docs/instrumenting/exposition_formats, "Text-based format").
///
/// Shape of the output: each family starts with `# HELP name text` and `# TYPE name counter|gauge|histogram`,
/// then its samples, `name{label="value",...} value`, one per line, `\n` line ends. A histogram family writes
/// per series cumulative `name_bucket{...,le="bound"}` samples ending with `le="+Inf"`, then `name_sum` and
/// `name_count`. Escaping: in HELP text `\` → `\\` and line feed → `\n`; in label values also `"` → `\"`.
///
/// Names are ssekeeper's own constants; `family(_:type:help:)` checks them against `[a-zA-Z_:][a-zA-Z0-9_:]*`
/// (label names against `[a-zA-Z_][a-zA-Z0-9_]*`) and traps on a programming error. Label values come from the
/// config (route prefixes) and are escaped.
public struct PrometheusTextWriter {
    /// The metric types ssekeeper writes.
    public enum MetricType: String, Sendable {
        case counter, gauge, histogram
    }

    /// The exposition so far.
    public private(set) var text = ""
    private var family: (name: String, type: MetricType)?
    private var declared: Set<String> = []

    /// The `Content-Type` of a scrape response in this format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init() {}

    /// Starts a family: writes its HELP and TYPE lines. Each name may be declared once.
    public mutating func family(_ name: String, type: MetricType, help: String) {
        precondition(Self.isValidMetricName(name), "invalid metric name \(name)")
        precondition(declared.insert(name).inserted, "metric family \(name) declared twice")
        family = (name, type)
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// One sample of the current counter or gauge family.
    public mutating func sample(_ value: UInt64, labels: [(String, String)] = []) {
        sample(labels, text: String(value))
    }

    /// One sample of the current gauge family (gauges may be negative).
    public mutating func sample(_ value: Int, labels: [(String, String)] = []) {
        sample(labels, text: String(value))
    }

    private mutating func sample(_ labels: [(String, String)], text value: String) {
        guard let family else { preconditionFailure("sample before any family") }
        precondition(family.type != .histogram, "use histogram(_:_:) for \(family.name)")
        line(family.name, labels, value)
    }

    /// One histogram series of the current histogram family; durations are written in seconds.
    public mutating func histogram(_ labels: [(String, String)], _ histogram: Histogram) {
        guard let family, family.type == .histogram else { preconditionFailure("histogram outside a histogram family") }
        let cumulative = histogram.cumulativeCounts
        for (index, bound) in histogram.boundsNanos.enumerated() {
            line(family.name + "_bucket", labels + [("le", TimeAmount(nanoseconds: bound).formatted(.decimal(fractionDigits: 9)))], String(cumulative[index]))
        }
        line(family.name + "_bucket", labels + [("le", "+Inf")], String(histogram.count))
        line(family.name + "_sum", labels, TimeAmount(nanoseconds: histogram.sumNanos).formatted(.decimal(fractionDigits: 9)))
        line(family.name + "_count", labels, String(histogram.count))
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, (label, labelValue)) in labels.enumerated() {
                precondition(Self.isValidLabelName(label), "invalid label name \(label)")
                if index > 0 { text += "," }
                text += label
                text += "=\""
                text += Self.escapeLabelValue(labelValue)
                text += "\""
            }
            text += "}"
        }
        text += " "
        text += value
        text += "\n"
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidMetricName(_ name: String) -> Bool {
        isName(name, allowingColon: true)
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
    public static func isValidLabelName(_ name: String) -> Bool {
        isName(name, allowingColon: false) && !name.hasPrefix("__")
    }

    private static func isName(_ name: String, allowingColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || byte == UInt8(ascii: "_") || (allowingColon && byte == UInt8(ascii: ":"))
        }
        guard isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// HELP text: `\` → `\\`, line feed → `\n`.
    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Label values: `\` → `\\`, `"` → `\"`, line feed → `\n`.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
