import Testing
@testable import SSEKeeperCore

struct ProbeOptionsTests {
    @Test func aURLAlone_probesUpTo15Minutes_inText() throws {
        let command = try Command.parse(["probe", "http://127.0.0.1:8080/p"])
        #expect(command == .probe(ProbeOptions(url: try ProbeURL.parse("http://127.0.0.1:8080/p"))))
        guard case .probe(let options) = command else { return }
        #expect(options.maxSilence == .seconds(900))
        #expect(!options.json && !options.insecure && options.caFile == nil)
    }

    @Test func options_mayComeBeforeOrAfterTheURL() throws {
        let expected = ProbeOptions(url: try ProbeURL.parse("https://h/p"), maxSilence: .seconds(10), json: true,
                                    caFile: "ca.pem")
        #expect(try Command.parse(["probe", "https://h/p", "--max", "10s", "--json", "--cacert", "ca.pem"]) == .probe(expected))
        #expect(try Command.parse(["probe", "--json", "--cacert", "ca.pem", "--max", "10s", "https://h/p"]) == .probe(expected))
        #expect(try Command.parse(["probe", "-k", "https://h/p"])
            == .probe(ProbeOptions(url: try ProbeURL.parse("https://h/p"), insecure: true)))
    }

    @Test(arguments: [
        (["probe"], "probe needs a URL"),
        (["probe", "http://h/", "http://i/"], "unexpected argument \"http://i/\""),
        (["probe", "http://h/", "--max"], "--max needs a duration"),
        (["probe", "http://h/", "--max", "soon"], "invalid --max \"soon\""),
        (["probe", "http://h/", "--max", "500ms"], "invalid --max \"500ms\""),
        (["probe", "http://h/", "--max", "2h"], "invalid --max \"2h\""),
        (["probe", "http://h/", "--json", "--json"], "--json given twice"),
        (["probe", "http://h/", "--verbose"], "unknown option \"--verbose\" for probe"),
        (["probe", "https://h/", "--cacert"], "--cacert needs a file name"),
        (["probe", "https://h/", "--cacert", "a", "--insecure"], "--cacert and --insecure contradict each other"),
        (["probe", "http://h/", "--insecure"], "--cacert and --insecure apply to https:// URLs only"),
        (["probe", "h/p"], "invalid URL \"h/p\": the URL needs a scheme: http:// or https://"),
    ])
    func badArguments_sayWhatIsWrong(arguments: [String], message: String) {
        #expect {
            try Command.parse(arguments)
        } throws: { error in
            (error as? CommandLineError)?.message.hasPrefix(message) == true
        }
    }
}
