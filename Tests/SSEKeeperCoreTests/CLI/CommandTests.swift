import Testing
@testable import SSEKeeperCore

struct CommandTests {
    @Test(arguments: [
        (["run", "-c", "a.conf"], Command.run(configPath: "a.conf")),
        (["-c", "a.conf"], Command.run(configPath: "a.conf")),
        (["--config", "a.conf"], Command.run(configPath: "a.conf")),
        (["check", "-c", "b.conf"], Command.check(configPath: "b.conf")),
        (["demo"], Command.demo(listen: nil)),
        (["demo", "--listen", "127.0.0.1:9999"], Command.demo(listen: "127.0.0.1:9999")),
        (["--help"], Command.help(.overview)),
        (["help"], Command.help(.overview)),
        (["help", "probe"], Command.help(.probe)),
        (["run", "--help"], Command.help(.run)),
        (["-c", "a.conf", "-h"], Command.help(.run)),
        (["check", "-c", "b.conf", "--help"], Command.help(.check)),
        (["demo", "-h"], Command.help(.demo)),
        (["probe", "--help"], Command.help(.probe)),
        (["probe", "https://x/p", "--max", "2m", "--help"], Command.help(.probe)),
        (["version", "--help"], Command.help(.version)),
        (["--version", "-h"], Command.help(.version)),
        (["version"], Command.version),
    ])
    func validArguments_parseToTheirCommand(arguments: [String], expected: Command) throws {
        #expect(try Command.parse(arguments) == expected)
    }

    @Test(arguments: [
        ([], "no command given"),
        (["run"], "run needs -c FILE"),
        (["check", "-c"], "-c needs a file name"),
        (["run", "-c", "a", "-c", "b"], "-c given twice"),
        (["serve"], "unknown command \"serve\""),
        (["demo", "--port", "1"], "unknown option \"--port\" for demo"),
        (["help", "extra"], "no help for \"extra\": not a command"),
        (["help", "run", "extra"], "unexpected argument \"extra\""),
        (["help", "overview"], "no help for \"overview\": not a command"),
    ])
    func invalidArguments_sayWhatIsWrong(arguments: [String], message: String) {
        #expect(throws: CommandLineError(message)) { try Command.parse(arguments) }
    }

    @Test(arguments: HelpTopic.allCases.filter { $0 != .overview })
    func everyCommandsHelp_explainsEachOptionItsParserAccepts(topic: HelpTopic) {
        let options: [HelpTopic: [String]] = [
            .run: ["-c, --config FILE", "-h, --help", "SIGHUP", "SIGTERM", "SIGINT", "SIGUSR1"],
            .check: ["-c, --config FILE", "-h, --help"],
            .demo: ["-l, --listen HOST:PORT", "-h, --help"],
            .probe: ["URL", "--max DUR", "--json", "--cacert FILE", "-k, --insecure", "-h, --help"],
            .version: ["-h, --help"],
        ]
        #expect(topic.text.hasPrefix("usage: ssekeeper \(topic.rawValue)"))
        for option in options[topic] ?? [] {
            #expect(topic.text.contains(option), "\(topic) help does not explain \(option)")
        }
        #expect(topic.text.contains("exit status"))
    }
}
