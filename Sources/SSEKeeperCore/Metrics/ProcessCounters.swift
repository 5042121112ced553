/// Counters of one event loop that belong to no route.
public struct ProcessCounters: Sendable, Equatable {
    /// Requests and connections refused by ssekeeper itself, by `RejectionReason.rawValue`.
    public private(set) var rejected = [UInt64](repeating: 0, count: RejectionReason.allCases.count)
    /// Times accepting paused because the process ran out of descriptors (EMFILE/ENFILE).
    public var acceptBackoffs: UInt64 = 0
    /// Client connections accepted.
    public var connectionsAccepted: UInt64 = 0
    /// Client connections handed to another loop: a ride-through reconnect accepted on one loop whose stream runs
    /// on another (counted on the loop that handed it over).
    public var connectionsHandedOver: UInt64 = 0
    /// Client connections served with HTTP/2 (ALPN `h2`, or prior knowledge on an `h2c` listener).
    public var http2Connections: UInt64 = 0
    /// Streams (requests) clients opened on HTTP/2 connections; with `http2Connections`, streams per connection.
    public var http2Streams: UInt64 = 0
    /// HTTP/2 connections ended by a connection error (RFC 9113 §5.4.1: GOAWAY with an error code we sent).
    public var http2ConnectionErrors: UInt64 = 0

    public init() {}

    /// Counts one rejection.
    public mutating func countRejection(_ reason: RejectionReason) {
        rejected[reason.rawValue] &+= 1
    }

    /// Adds another loop's counters.
    public mutating func merge(_ other: ProcessCounters) {
        for index in rejected.indices { rejected[index] &+= other.rejected[index] }
        acceptBackoffs &+= other.acceptBackoffs
        connectionsAccepted &+= other.connectionsAccepted
        connectionsHandedOver &+= other.connectionsHandedOver
        http2Connections &+= other.http2Connections
        http2Streams &+= other.http2Streams
        http2ConnectionErrors &+= other.http2ConnectionErrors
    }

    /// A copy sharing no array storage with `self`.
    public func detachedCopy() -> ProcessCounters {
        var copy = self
        copy.rejected = rejected.map { $0 }
        return copy
    }
}
