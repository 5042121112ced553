import Glibc
import SSEKeeperCore

/// Writes one record per finished request where `access_log` says, shaped by `log_format`. Safe from any thread.
///
/// - `stderr` (the default): through the process `Logger`, as ssekeeper always did
///   (`TIMESTAMP info access key=value ...`), or the bare JSON object per line with `log_format json`.
/// - a file: opened `O_WRONLY|O_APPEND|O_CREAT` (mode 0644) at start-up, one `write(2)` per record, so records
///   from several loops never interleave. `reopen()` (SIGUSR1, for logrotate) opens the path again and `dup2`s
///   the new file onto the same descriptor: writers on other loops never see a closed or reused descriptor.
/// - `off`: nothing.
final class AccessLog: Sendable {
    private let destination: AccessLogDestination
    private let format: LogFormat
    private let logger: Logger
    /// The file's descriptor, or -1.
    private let fd: Int32

    /// Opens the file, if the destination is one. Throws when it cannot be opened.
    init(settings: ObserveSettings, logger: Logger) throws(SocketError) {
        destination = settings.accessLog
        format = settings.logFormat
        self.logger = logger
        if case .file(let path) = destination {
            fd = try Self.open(path)
        } else {
            fd = -1
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Whether records go nowhere (`access_log off`): then callers need not build them.
    var isOff: Bool {
        if case .off = destination { return true }
        return false
    }

    /// Writes `record`.
    func write(_ record: AccessLogRecord) {
        switch (destination, format) {
        case (.off, _):
            return
        case (.stderr, .text):
            logger.access(record)
        case (.stderr, .json):
            logger.writeLine(record.json(time: Logger.timestamp()))
        case (.file, .text):
            Logger.write(Logger.format(.info, record.line), to: fd)
        case (.file, .json):
            Logger.write(record.json(time: Logger.timestamp()) + "\n", to: fd)
        }
    }

    /// The file's path, when the log goes to a file.
    var path: String? {
        if case .file(let path) = destination { return path }
        return nil
    }

    /// Opens the file's path again and puts the new file behind the same descriptor (after logrotate renamed
    /// the old one). Does nothing when the log does not go to a file. On failure the old file stays in use.
    func reopen() throws(SocketError) {
        guard let path, fd >= 0 else { return }
        let fresh = try Self.open(path)
        defer { Glibc.close(fresh) }
        guard dup2(fresh, fd) >= 0 else { throw SocketError(operation: "reopen access_log \(path)", errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    private static func open(_ path: String) throws(SocketError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SocketError(operation: "open access_log \(path)", errno: errno) }
        return fd
    }
}
