import Glibc

extension SocketError {
    /// The system's text for an errno value (`strerror`), e.g. "Connection refused".
    static func text(errno code: Int32) -> String {
        String(cString: strerror(code))
    }
}
