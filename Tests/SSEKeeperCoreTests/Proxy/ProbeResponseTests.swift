import Testing
@testable import SSEKeeperCore

struct ProbeResponseTests {
    static let max = Duration.seconds(900)

    @Test(arguments: [
        ("/probe?silence=90s", Duration.seconds(90)),
        ("/probe?x=1&silence=250ms", .milliseconds(250)),
        ("/probe?silence=2m&silence=5s", .seconds(120)),
        ("/probe", .seconds(60)),
        ("/probe?other=1", .seconds(60)),
        ("/probe?silence=1h", .seconds(900)),
    ])
    func theSilence_isWhatTheRequestAsks_cappedAtTheMaximum(target: String, expected: Duration) {
        #expect(ProbeResponse.silence(requestedIn: target, maxSilence: Self.max) == .success(expected))
    }

    @Test func theBusyPhase_isZeroUnlessAsked_cappedAtTheMaximum_andCheckedLikeTheSilence() {
        #expect(ProbeResponse.busy(requestedIn: "/probe?silence=5s", maxSilence: Self.max) == .success(.zero))
        #expect(ProbeResponse.busy(requestedIn: "/probe", maxSilence: Self.max) == .success(.zero))
        #expect(ProbeResponse.busy(requestedIn: "/probe?busy=2s&silence=5s", maxSilence: Self.max) == .success(.seconds(2)))
        #expect(ProbeResponse.busy(requestedIn: "/probe?busy=2h", maxSilence: .seconds(60)) == .success(.seconds(60)))
        #expect(ProbeResponse.busy(requestedIn: "/probe?busybody=1&busy=0s", maxSilence: Self.max)
            == .failure(ProbeRequestError(message: "invalid busy \"0s\" (use 250ms, 90s, 2m)")))
    }

    @Test(arguments: ["/probe?silence=", "/probe?silence=soon", "/probe?silence=0s", "/probe?silence=-5s"])
    func aBadSilence_isAnError(target: String) {
        guard case .failure(let error) = ProbeResponse.silence(requestedIn: target, maxSilence: Self.max) else {
            Issue.record("accepted \(target)")
            return
        }
        #expect(error.message.hasPrefix("invalid silence"))
    }

    @Test func theDefaultSilence_isCappedToo() {
        #expect(ProbeResponse.silence(requestedIn: "/p", maxSilence: .seconds(5)) == .success(.seconds(5)))
    }

    @Test func events_carryTheServerTime_asSSE() {
        #expect(String(decoding: ProbeResponse.startEvent(serverTimeMillis: 1000, silenceMillis: 90000), as: UTF8.self)
            == "event: probe-start\ndata: {\"server_time_ms\": 1000, \"silence_ms\": 90000}\n\n")
        #expect(String(decoding: ProbeResponse.startEvent(serverTimeMillis: 1000, silenceMillis: 90000, busyMillis: 1500), as: UTF8.self)
            == "event: probe-start\ndata: {\"server_time_ms\": 1000, \"silence_ms\": 90000, \"busy_ms\": 1500}\n\n")
        #expect(String(decoding: ProbeResponse.endEvent(serverTimeMillis: 91000, silentMillis: 90001), as: UTF8.self)
            == "event: probe-end\ndata: {\"server_time_ms\": 91000, \"silent_ms\": 90001}\n\n")
    }

    @Test func probeSettings_parseFromTheConfig() throws {
        let base = "listen 8080;\nupstream a { server 127.0.0.1:9000; }\nroute / { upstream a; }\n"
        #expect(try ConfigParser.parse(base, fileName: "t").probe == ProbeSettings())
        let config = try ConfigParser.parse(base + "probe_path /.ssekeeper/probe;\nprobe_max_silence 5m;\n", fileName: "t")
        #expect(config.probe == ProbeSettings(path: "/.ssekeeper/probe", maxSilence: .seconds(300)))
        #expect(throws: ConfigErrors.self) { try ConfigParser.parse(base + "probe_path probe;", fileName: "t") }
        #expect(throws: ConfigErrors.self) { try ConfigParser.parse(base + "probe_path /p?x;", fileName: "t") }
    }
}
