import Glibc
import SSEKeeperCore

/// Reads and parses a config file. The reading is the shell's; the parsing is `ConfigParser`'s.
public enum ConfigLoader {
    /// Files larger than this are refused before parsing (the parser has its own limit too).
    static let maxFileBytes = 1024 * 1024

    /// Loads `path`. Throws `ConfigErrors`: every problem, with file:line:column, or a single error at line 0 whose
    /// message is why the file could not be read (its `description` is `cannot read config file PATH: reason`).
    public static func load(path: String) throws(ConfigErrors) -> Config {
        let text: String
        do {
            text = try readFile(path)
        } catch {
            throw ConfigErrors(errors: [ConfigError(fileName: path, line: 0, column: 0, message: error.message)])
        }
        return try ConfigParser.parse(text, fileName: path)
    }

    /// The whole file as UTF-8 text (invalid bytes are replaced, the parser reports what that breaks).
    static func readFile(_ path: String) throws(SocketError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SocketError(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= maxFileBytes {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SocketError(operation: "read \(path)", errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        guard bytes.count <= maxFileBytes else {
            throw SocketError(operation: "read \(path)", message: "file is larger than \(maxFileBytes) bytes")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
