/// How ssekeeper can be watched: the admin endpoint and the access log.
public struct ObserveSettings: Sendable, Equatable {
    /// Where the admin endpoint (`/metrics`, `/healthz`, `/streams`) listens (`admin_listen`, off by default).
    /// It must not share an address with a `listen`: bind it to loopback or a private interface.
    public var adminListen: ListenAddress?
    /// Where one record per finished request goes (`access_log`, default `stderr`).
    public var accessLog: AccessLogDestination
    /// How each record is written (`log_format`, default `text`).
    public var logFormat: LogFormat

    public init(adminListen: ListenAddress? = nil, accessLog: AccessLogDestination = .stderr, logFormat: LogFormat = .text) {
        self.adminListen = adminListen
        self.accessLog = accessLog
        self.logFormat = logFormat
    }
}

/// Where access records go (`access_log PATH|stderr|off;`).
public enum AccessLogDestination: Sendable, Equatable {
    /// With the other log lines, on standard error (the default; what ssekeeper always did).
    case stderr
    /// Appended to this file (an absolute path), created when missing, reopened on SIGUSR1 for logrotate.
    case file(String)
    /// Not written (the metrics still count every request).
    case off
}

/// The shape of an access record (`log_format text|json;`).
public enum LogFormat: String, Sendable, Equatable {
    /// `TIMESTAMP info access key=value ...` (see `AccessLogRecord.line`).
    case text
    /// One JSON object per line (see `AccessLogRecord.json(time:)`).
    case json
}
