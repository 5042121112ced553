import Glibc
import SSEKeeperCore

/// Writes log lines to stderr: `2026-11-22T03:23:05.123Z LEVEL message`, one `write(2)` per line so lines from
/// several loops never interleave. Safe from any thread.
public final class Logger: Sendable {
    /// How serious a line is.
    public enum Level: String, Sendable {
        case info, warn, error
    }

    private let fd: Int32

    /// Logs to `fd` (stderr by default).
    public init(fd: Int32 = 2) {
        self.fd = fd
    }

    public func info(_ message: String) { log(.info, message) }
    public func warn(_ message: String) { log(.warn, message) }
    public func error(_ message: String) { log(.error, message) }

    /// Writes one access record.
    public func access(_ record: AccessLogRecord) { log(.info, record.line) }

    /// Writes one line.
    public func log(_ level: Level, _ message: String) {
        Self.write(Self.format(level, message), to: fd)
    }

    /// Writes `line` (no trailing newline; one is added) as it is, without timestamp or level: for records
    /// that carry their own, like JSON access records.
    public func writeLine(_ line: String) {
        Self.write(line + "\n", to: fd)
    }

    /// `TIMESTAMP LEVEL message\n`.
    static func format(_ level: Level, _ message: String) -> String {
        var line = timestamp()
        line += " "
        line += level.rawValue
        line += " "
        line += message
        line += "\n"
        return line
    }

    /// Writes `text` to `fd` with as few `write(2)` calls as the kernel allows (one, for a regular file or a
    /// pipe and a line below PIPE_BUF), so lines from several threads do not interleave.
    static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                return
            }
            offset += written
        }
    }

    /// UTC wall-clock time with milliseconds, ISO 8601.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
