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
        (["--help"], Command.help),
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
        (["help", "extra"], "unexpected argument \"extra\""),
    ])
    func invalidArguments_sayWhatIsWrong(arguments: [String], message: String) {
        #expect(throws: CommandLineError(message)) { try Command.parse(arguments) }
    }
}
