import Dispatch
import Glibc
import SSEKeeperCore
import SSEKeeperIO

/// The `ssekeeper` executable: parses arguments and runs a command. Exit codes: 0 success, 1 invalid config or
/// failure to start, 2 bad arguments.
enum SSEKeeperCommand {
    static let version = "0.1.0"

    static func main(_ arguments: [String]) -> Never {
        let command: Command
        do {
            command = try Command.parse(arguments)
        } catch {
            printError("ssekeeper: \(error)\n\(Command.usage)")
            exit(2)
        }
        switch command {
        case .help(let topic):
            printOut(topic.text)
            exit(0)
        case .version:
            printOut(versionLine())
            exit(0)
        case .check(let path):
            exit(check(path: path))
        case .run(let path):
            guard let config = loadOrReport(path: path) else { exit(1) }
            run(config: config, configPath: path)
        case .demo(let listen):
            demo(listen: listen ?? "127.0.0.1:8080")
        case .probe(let options):
            exit(probe(options))
        }
    }

    /// `ssekeeper probe`: progress on stdout while it waits (one updating line on a terminal, plain lines
    /// otherwise, nothing with --json), then the result; exit 0, or 1 with the message on stderr (and a JSON
    /// error object on stdout with --json).
    private static func probe(_ options: ProbeOptions) -> Int32 {
        let url = options.url.description
        let tlsVerified: Bool? = options.url.scheme == .https ? !options.insecure : nil
        let terminal = TerminalLine(enabled: !options.json && isatty(1) == 1)
        var progress = ProbeProgress()
        if !options.json {
            printOut("probing \(url) with silences up to \(ConfigValue.formatDuration(options.maxSilence)) (Ctrl-C to stop)")
            if tlsVerified == false { printOut("warning: TLS certificate verification is off (--insecure)") }
            progress.onNote = { note in terminal.print(ProbeReport.line(for: note)) }
            if terminal.enabled { progress.onStatus = { line in terminal.show(line) } }
        }
        let result = ProbeRunner(options: options).run(progress: progress)
        terminal.clear()
        switch result {
        case .success(let outcome):
            if options.json {
                printOut(ProbeReport.json(for: outcome, url: url, maxSilence: options.maxSilence, tlsVerified: tlsVerified))
            } else {
                for line in ProbeReport.lines(for: outcome, maxSilence: options.maxSilence, tlsVerified: tlsVerified) {
                    printOut(line)
                }
            }
            return 0
        case .failure(let failure):
            printError("ssekeeper probe: \(failure.message)")
            if options.json { printOut(ProbeReport.json(for: failure, url: url)) }
            return 1
        }
    }

    /// The single updating status line of `probe` on a terminal; notes are printed above it.
    private final class TerminalLine {
        let enabled: Bool
        private var showing = false

        init(enabled: Bool) { self.enabled = enabled }

        func show(_ line: String) {
            write("\r\u{1B}[K" + line, to: 1)
            showing = true
        }

        func print(_ line: String) {
            clear()
            printOut(line)
        }

        func clear() {
            guard showing else { return }
            write("\r\u{1B}[K", to: 1)
            showing = false
        }
    }

    /// `ssekeeper 0.1.0 (build 1a2b3c4d5e6f, release, x86_64-linux)`: the build is the linker's GNU build ID of this
    /// very binary, so two binaries with the same version can still be told apart.
    private static func versionLine() -> String {
        var details: [String] = []
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var prefix = [UInt8](repeating: 0, count: ELFBuildID.prefixBytes)
            let count = prefix.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            close(fd)
            if count > 0, let id = ELFBuildID.find(in: Array(prefix[..<count])) { details.append("build \(id.prefix(12))") }
        }
        #if DEBUG
        details.append("debug")
        #else
        details.append("release")
        #endif
        #if arch(x86_64)
        details.append("x86_64-linux")
        #elseif arch(arm64)
        details.append("aarch64-linux")
        #endif
        return "ssekeeper \(version) (\(details.joined(separator: ", ")))"
    }

    private static func check(path: String) -> Int32 {
        guard let config = loadOrReport(path: path) else { return 1 }
        do {
            try ProxyServer.checkTLS(config)
        } catch {
            printError("\(path): \(error.message)")
            return 1
        }
        printOut("\(path): ok")
        return 0
    }

    private static func loadOrReport(path: String) -> Config? {
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            // A file that cannot be read is the program's complaint, not a position in the file.
            for problem in error.errors { printError((problem.line == 0 ? "ssekeeper: " : "") + problem.description) }
            return nil
        }
    }

    /// Runs until a signal: SIGHUP re-reads `configPath`, SIGTERM drains (a second one exits at once), SIGINT
    /// stops at once.
    private static func run(config: Config, configPath: String? = nil, banner: String? = nil) -> Never {
        let logger = Logger()
        let loops = ProxyServer.loopCount(for: config)
        if let note = loops.note {
            if note.isWarning { logger.warn(note.text) } else { logger.info(note.text) }
        }
        let server: ProxyServer
        do {
            server = try ProxyServer(config: config, logger: logger, loopCount: loops.count)
        } catch {
            printError("ssekeeper: \(error)")
            exit(1)
        }
        // SIGUSR1 reopens the access log (logrotate); watched before the first request can be logged.
        let reopener = SignalWatcher(signals: [SIGUSR1]) { _ in server.reopenLogs() }
        do {
            try server.start()
        } catch {
            printError("ssekeeper: \(error)")
            exit(1)
        }
        if let banner { printOut(banner) }
        let watcher = SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP]) { signal in
            switch signal {
            case SIGHUP:
                reload(server, from: configPath, logger: logger)
            case SIGTERM where !server.isDraining:
                let timeout = ConfigValue.formatDuration(server.config.limits.drainTimeout)
                logger.info("received SIGTERM: draining \(server.openConnectionCount) connection(s) within \(timeout) (SIGTERM again exits at once)")
                server.drain { open in
                    if open == 0 {
                        logger.info("drained: every connection ended; exiting")
                    } else {
                        logger.warn("drain_timeout \(timeout) passed with \(open) connection(s) still open; exiting")
                    }
                    exit(0)
                }
            case SIGTERM:
                logger.warn("received SIGTERM again while draining: exiting at once with \(server.openConnectionCount) connection(s) open")
                exit(0)
            default:
                logger.info("received SIGINT, stopping")
                server.stop()
                exit(0)
            }
        }
        withExtendedLifetime((watcher, reopener)) { dispatchMain() }
    }

    /// SIGHUP: a valid file applies to new requests at once; an invalid one is logged and changes nothing.
    private static func reload(_ server: ProxyServer, from path: String?, logger: Logger) {
        guard let path else {
            logger.warn("received SIGHUP: there is no config file to re-read (demo mode); nothing changed")
            return
        }
        let config: Config
        do {
            config = try ConfigLoader.load(path: path)
        } catch {
            for problem in error.errors { logger.error("reload: \(problem.description)") }
            logger.error("received SIGHUP: \(path) is invalid; the running config is kept")
            return
        }
        do {
            try server.reload(config: config)
        } catch {
            logger.error("received SIGHUP: cannot apply \(path): \(error); the running config is kept")
            return
        }
        logger.info("received SIGHUP: reloaded \(path) (\(config.routes.count) route(s), \(config.upstreams.count) upstream(s)); open streams keep their settings")
    }

    private static func demo(listen: String) -> Never {
        let quiet = Duration.seconds(20)
        let backend: DemoBackend
        do {
            backend = try DemoBackend(quietInterval: quiet)
        } catch {
            printError("ssekeeper demo: \(error)")
            exit(1)
        }
        backend.start()
        let text = """
            listen \(listen);
            idle_timeout 15s;
            heartbeat_fraction 0.33;
            upstream demo { server 127.0.0.1:\(backend.port); }
            route / { upstream demo; }
            """
        let config: Config
        do {
            config = try ConfigParser.parse(text, fileName: "demo")
        } catch {
            for problem in error.errors { printError("ssekeeper demo: --listen: \(problem.message)") }
            exit(2)
        }
        let url = "http://\(config.listens[0].host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "127.0.0.1"):\(config.listens[0].port)/events"
        let banner = """
            ssekeeper demo: a demo SSE backend on 127.0.0.1:\(backend.port) sends an event every \(ConfigValue.formatDuration(quiet));
            in between, ssekeeper sends a ": heartbeat" comment after \(ConfigValue.formatDuration(config.defaults.heartbeatInterval)) of silence (idle_timeout 15s x heartbeat_fraction 0.33).
            Try:  curl -N \(url)
            """
        run(config: config, banner: banner)
    }

    private static func printError(_ text: String) { write(text + "\n", to: 2) }

    /// Unbuffered, so the line is visible at once even when stdout is a pipe.
    private static func printOut(_ text: String) { write(text + "\n", to: 1) }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
