/// A SETTINGS parameter identifier (RFC 9113 §6.5.2), by its 16-bit wire value.
///
/// A struct rather than a closed enum: §6.5.2 says an endpoint that receives an unknown identifier MUST ignore
/// it, so unknown identifiers are parsed, kept, and skipped by `HTTP2Settings.apply`.
public struct HTTP2SettingIdentifier: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit value on the wire.
    public let rawValue: UInt16

    /// Wraps any 16-bit value, known or not.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 0x1 SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table the peer's decoder allows (default 4096).
    public static let headerTableSize = HTTP2SettingIdentifier(rawValue: 0x1)
    /// 0x2 SETTINGS_ENABLE_PUSH: 0 or 1 (default 1); a client's SETTINGS with 1 is valid but never acted on.
    public static let enablePush = HTTP2SettingIdentifier(rawValue: 0x2)
    /// 0x3 SETTINGS_MAX_CONCURRENT_STREAMS: streams the sender lets the receiver open (default unlimited).
    public static let maxConcurrentStreams = HTTP2SettingIdentifier(rawValue: 0x3)
    /// 0x4 SETTINGS_INITIAL_WINDOW_SIZE: a new stream's flow-control window, at most 2^31−1 (default 65,535).
    public static let initialWindowSize = HTTP2SettingIdentifier(rawValue: 0x4)
    /// 0x5 SETTINGS_MAX_FRAME_SIZE: the largest payload the sender accepts, 16,384...16,777,215 (default 16,384).
    public static let maxFrameSize = HTTP2SettingIdentifier(rawValue: 0x5)
    /// 0x6 SETTINGS_MAX_HEADER_LIST_SIZE: advisory field-section size (RFC 9110 §5.3 sizing; default unlimited).
    public static let maxHeaderListSize = HTTP2SettingIdentifier(rawValue: 0x6)

    /// `SETTINGS_INITIAL_WINDOW_SIZE`, or `0x...` for an identifier §6.5.2 does not define.
    public var description: String {
        let names = ["SETTINGS_HEADER_TABLE_SIZE", "SETTINGS_ENABLE_PUSH", "SETTINGS_MAX_CONCURRENT_STREAMS",
                     "SETTINGS_INITIAL_WINDOW_SIZE", "SETTINGS_MAX_FRAME_SIZE", "SETTINGS_MAX_HEADER_LIST_SIZE"]
        if rawValue >= 1 && Int(rawValue) <= names.count { return names[Int(rawValue) - 1] }
        return "0x" + String(rawValue, radix: 16)
    }
}

/// One identifier/value pair of a SETTINGS frame (RFC 9113 §6.5.1: 6 bytes on the wire).
public struct HTTP2Setting: Hashable, Sendable {
    /// Which parameter.
    public var identifier: HTTP2SettingIdentifier
    /// Its 32-bit value.
    public var value: UInt32

    /// A pair as it appears in a SETTINGS frame.
    public init(_ identifier: HTTP2SettingIdentifier, _ value: UInt32) {
        self.identifier = identifier
        self.value = value
    }
}

/// The settings one endpoint has declared (RFC 9113 §6.5.2), starting from the protocol defaults.
///
/// Values are applied in frame order (§6.5.3: "processed in the order in which they appear"); a later value of
/// the same identifier overrides an earlier one. `validate(_:)` holds every range rule of §6.5.2 in one place;
/// `HTTP2FrameParser` calls it for each received pair so an invalid SETTINGS frame fails as a whole, before any
/// of it is applied.
public struct HTTP2Settings: Hashable, Sendable {
    /// The protocol's initial window size, 65,535 (RFC 9113 §6.5.2, §6.9.2).
    public static let defaultInitialWindowSize: UInt32 = 65_535
    /// The largest window or SETTINGS_INITIAL_WINDOW_SIZE, 2^31−1 (RFC 9113 §6.9.1).
    public static let maxWindowSize: UInt32 = 0x7FFF_FFFF
    /// The smallest allowed SETTINGS_MAX_FRAME_SIZE and its default, 2^14 = 16,384 (RFC 9113 §4.2).
    public static let minMaxFrameSize: UInt32 = 16_384
    /// The largest allowed SETTINGS_MAX_FRAME_SIZE, 2^24−1 = 16,777,215 (RFC 9113 §4.2).
    public static let maxMaxFrameSize: UInt32 = 16_777_215
    /// The HPACK table size default, 4,096 (RFC 9113 §6.5.2, RFC 7541 §4.2).
    public static let defaultHeaderTableSize: UInt32 = 4_096

    /// SETTINGS_HEADER_TABLE_SIZE.
    public var headerTableSize: UInt32 = HTTP2Settings.defaultHeaderTableSize
    /// SETTINGS_ENABLE_PUSH.
    public var enablePush = true
    /// SETTINGS_MAX_CONCURRENT_STREAMS; nil until declared (no limit).
    public var maxConcurrentStreams: UInt32?
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    public var initialWindowSize: UInt32 = HTTP2Settings.defaultInitialWindowSize
    /// SETTINGS_MAX_FRAME_SIZE.
    public var maxFrameSize: UInt32 = HTTP2Settings.minMaxFrameSize
    /// SETTINGS_MAX_HEADER_LIST_SIZE; nil until declared (no limit).
    public var maxHeaderListSize: UInt32?

    /// The defaults of RFC 9113 §6.5.2, in force until the peer's first SETTINGS frame.
    public init() {}

    /// Checks one received pair against §6.5.2; unknown identifiers pass (they are ignored).
    ///
    /// - Throws: a connection error: ENABLE_PUSH other than 0 or 1 → PROTOCOL_ERROR; INITIAL_WINDOW_SIZE above
    ///   2^31−1 → FLOW_CONTROL_ERROR; MAX_FRAME_SIZE outside 16,384...16,777,215 → PROTOCOL_ERROR.
    public static func validate(_ setting: HTTP2Setting) throws(HTTP2FrameError) {
        let value = setting.value
        switch setting.identifier {
        case .enablePush where value > 1:
            throw HTTP2FrameError(.connection, .protocolError, .invalidSetting(setting))
        case .initialWindowSize where value > maxWindowSize:
            throw HTTP2FrameError(.connection, .flowControlError, .invalidSetting(setting))
        case .maxFrameSize where value < minMaxFrameSize || value > maxMaxFrameSize:
            throw HTTP2FrameError(.connection, .protocolError, .invalidSetting(setting))
        default:
            return
        }
    }

    /// Validates then applies each pair in order; unknown identifiers are ignored (§6.5.2).
    ///
    /// - Throws: the first `validate(_:)` failure; the settings are then left unchanged.
    public mutating func apply(_ settings: [HTTP2Setting]) throws(HTTP2FrameError) {
        for setting in settings { try Self.validate(setting) }
        for setting in settings {
            switch setting.identifier {
            case .headerTableSize: headerTableSize = setting.value
            case .enablePush: enablePush = setting.value == 1
            case .maxConcurrentStreams: maxConcurrentStreams = setting.value
            case .initialWindowSize: initialWindowSize = setting.value
            case .maxFrameSize: maxFrameSize = setting.value
            case .maxHeaderListSize: maxHeaderListSize = setting.value
            default: continue
            }
        }
    }
}
