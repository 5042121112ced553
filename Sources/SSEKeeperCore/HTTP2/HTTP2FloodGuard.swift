/// Counts the frames a client can send to make the server work without doing any itself, and says when one
/// connection has sent too many within a sliding window (RFC 9113 §10.5: "An endpoint MAY treat activity that
/// is suspicious as a connection error of type ENHANCE_YOUR_CALM").
///
/// Pure: time is passed in as monotonic nanoseconds. The window is kept as `slotCount` slots of
/// `window / slotCount` each, so an event stops counting between 0.9 and 1.0 windows after it happened;
/// memory is O(1) per connection (4 counters per slot). On `.enhanceYourCalm` the connection sends GOAWAY
/// with ENHANCE_YOUR_CALM and closes.
///
/// What is counted, and why:
/// - `ping`: each PING makes us queue a PING ACK (§6.7); a flood of them grows the output queue when the client
///   does not read (the "ping flood", CVE-2019-9512).
/// - `settings`: each SETTINGS makes us apply it and queue an ACK (§6.5.3; CVE-2019-9515).
/// - `resetStream`: a RST_STREAM from the client, typically right after opening the stream: rapid reset
///   (CVE-2023-44487) makes the server start work (here an upstream request) and throw it away, while never
///   exceeding SETTINGS_MAX_CONCURRENT_STREAMS.
/// - `emptyData`: a DATA frame with no payload and no END_STREAM carries nothing but costs processing
///   (CVE-2019-9518, "empty frames flood").
public struct HTTP2FloodGuard: Sendable {
    /// A kind of frame the guard counts.
    public enum Event: Int, Sendable, CaseIterable {
        /// A PING without ACK received.
        case ping
        /// A SETTINGS without ACK received.
        case settings
        /// A RST_STREAM received.
        case resetStream
        /// A DATA frame with an empty payload and without END_STREAM received.
        case emptyData
    }

    /// The guard's answer to one event.
    public enum Verdict: Hashable, Sendable {
        /// Within budget.
        case ok
        /// Over the budget of this event: GOAWAY ENHANCE_YOUR_CALM and close.
        case enhanceYourCalm(Event)
    }

    /// How many of each event one connection may send within `window`.
    ///
    /// Defaults, per 10-second window: 100 PINGs, 100 SETTINGS, 500 RST_STREAMs, 100 empty DATA frames. For
    /// comparison: nghttp2 rate-limits incoming RST_STREAM with a token bucket of 1,000 tokens refilled at 33
    /// per second (`nghttp2_option_set_stream_reset_rate_limit`); Envoy allows 1 consecutive inbound frame with
    /// an empty payload (`max_consecutive_inbound_frames_with_empty_payload`) and 1,000 queued outbound control
    /// frames (`max_outbound_control_frames`); Go's x/net/http2 closes a connection past 10,000 queued control
    /// frames. Browsers send a handful of PINGs and SETTINGS per connection and reset a stream when a page closes
    /// an `EventSource`, so the budgets leave honest clients far away while bounding an attacker's work per
    /// connection to tens of frames per second. Each reset costs us an upstream request, hence a budget below
    /// nghttp2's burst.
    public struct Budgets: Hashable, Sendable {
        /// The window's length in nanoseconds (default 10 s).
        public var window: UInt64
        /// PINGs per window (default 100).
        public var ping: Int
        /// SETTINGS frames per window (default 100).
        public var settings: Int
        /// RST_STREAMs per window (default 500).
        public var resetStream: Int
        /// Empty DATA frames per window (default 100).
        public var emptyData: Int

        /// Budgets with the documented defaults unless given.
        public init(
            window: UInt64 = 10_000_000_000,
            ping: Int = 100,
            settings: Int = 100,
            resetStream: Int = 500,
            emptyData: Int = 100
        ) {
            self.window = window
            self.ping = ping
            self.settings = settings
            self.resetStream = resetStream
            self.emptyData = emptyData
        }

        /// The budget of `event`.
        public func budget(_ event: Event) -> Int {
            switch event {
            case .ping: return ping
            case .settings: return settings
            case .resetStream: return resetStream
            case .emptyData: return emptyData
            }
        }
    }

    /// The number of slots the window is cut into.
    public static let slotCount = 10

    /// The budgets in force.
    public let budgets: Budgets
    private let slotDuration: UInt64
    /// For each slot: the absolute slot number it counts (now / slotDuration), or nil before first use.
    private var slotNumbers: [UInt64?]
    /// `Event.allCases.count` counters per slot.
    private var counts: [Int]
    /// The latest slot number seen: time never goes back for the guard.
    private var latestSlot: UInt64 = 0

    /// A guard for one connection.
    public init(budgets: Budgets = Budgets()) {
        self.budgets = budgets
        self.slotDuration = max(1, budgets.window / UInt64(Self.slotCount))
        self.slotNumbers = Array(repeating: nil, count: Self.slotCount)
        self.counts = Array(repeating: 0, count: Self.slotCount * Event.allCases.count)
    }

    /// Records one `event` at `now` and says whether the connection is still within that event's budget.
    public mutating func record(_ event: Event, at now: UInt64) -> Verdict {
        let slot = max(latestSlot, now / slotDuration)
        latestSlot = slot
        let index = Int(slot % UInt64(Self.slotCount))
        if slotNumbers[index] != slot {
            slotNumbers[index] = slot
            for kind in Event.allCases { counts[index * Event.allCases.count + kind.rawValue] = 0 }
        }
        counts[index * Event.allCases.count + event.rawValue] += 1
        return count(event, at: now) > budgets.budget(event) ? .enhanceYourCalm(event) : .ok
    }

    /// How many `event`s fall in the window ending at `now`.
    public func count(_ event: Event, at now: UInt64) -> Int {
        let slot = max(latestSlot, now / slotDuration)
        var total = 0
        for index in 0..<Self.slotCount {
            guard let number = slotNumbers[index], number <= slot, slot - number < UInt64(Self.slotCount) else { continue }
            total += counts[index * Event.allCases.count + event.rawValue]
        }
        return total
    }
}
