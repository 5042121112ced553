import Foundation
import Testing
@testable import SSEKeeperCore

/// Keeps the directive table, the shipped example file and the directive reference in step: each names the
/// directives the others do, in the same contexts, with the same syntax and defaults, and each default is true.
@Suite struct DirectiveTableTests {
    /// The repository root, found from this file's path (`Tests/SSEKeeperCoreTests/Config/`).
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func read(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// A row's identity: its name and contexts (`upstream` has two rows, told apart by context).
    static func key(_ directive: ConfigDirective) -> String {
        "\(directive.name) [\(directive.contexts.map(\.name).joined(separator: ", "))]"
    }

    /// The `Default:` line a row should have: `name value;`, or `—`.
    static func defaultLine(_ directive: ConfigDirective) -> String {
        directive.defaultValue == ConfigDirective.noDefault
            ? ConfigDirective.noDefault : "\(directive.name) \(directive.defaultValue);"
    }

    // MARK: - The table

    @Test func everyRow_hasItsNameFirstInItsSyntax_aSummary_andContextsInCanonicalOrder() {
        var keys: Set<String> = []
        for directive in ConfigDirective.all {
            #expect(directive.syntax.hasPrefix(directive.name + " "), "\(directive.syntax)")
            #expect(directive.syntax.hasSuffix(directive.takesBlock ? "}" : ";"), "\(directive.syntax)")
            #expect(!directive.summary.isEmpty && directive.summary.hasSuffix("."), "\(directive.name)")
            #expect(!directive.defaultValue.isEmpty, "\(directive.name)")
            #expect(!directive.contexts.isEmpty, "\(directive.name)")
            #expect(directive.contexts == ConfigContext.allCases.filter(directive.contexts.contains), "\(directive.name)")
            #expect(keys.insert(Self.key(directive)).inserted, "two rows \(Self.key(directive))")
        }
    }

    /// A default that is not what the code does would be documented wrongly: writing every default out, in each
    /// context its row allows, must give the same `Config` as leaving it out.
    @Test func everyDefault_writtenOutInEachContext_changesNothing() throws {
        let baseline = try parseValid(minimalConfig)
        var checked = 0
        for directive in ConfigDirective.all where directive.defaultValue != ConfigDirective.noDefault {
            let line = Self.defaultLine(directive)
            for context in directive.contexts {
                let text: String
                switch context {
                case .main: text = minimalConfig + "\n" + line + "\n"
                case .upstream: text = "listen 8080;\nupstream api { server 127.0.0.1:9000; \(line) }\nroute / { upstream api; }\n"
                case .route: text = "listen 8080;\nupstream api { server 127.0.0.1:9000; }\nroute / { upstream api; \(line) }\n"
                }
                #expect(try parseValid(text) == baseline, "\(line) in \(context.name) is not the default")
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    // MARK: - proxy.conf.example

    /// Every statement of `proxy.conf.example` (comments aside) with the context it stands in.
    static func exampleStatements() throws -> [(name: String, context: ConfigContext, line: Int)] {
        let (tokens, lexicalErrors) = ConfigLexer.tokenize(try read("proxy.conf.example"), fileName: "proxy.conf.example")
        #expect(lexicalErrors.isEmpty)
        var syntax = ConfigSyntaxParser(tokens: tokens, fileName: "proxy.conf.example")
        let statements = syntax.parseFile()
        #expect(syntax.errors.isEmpty)
        var found: [(name: String, context: ConfigContext, line: Int)] = []
        func walk(_ statements: [ConfigStatement], in context: ConfigContext) {
            for statement in statements {
                guard let name = statement.nameText else { continue }
                found.append((name, context, statement.name.line))
                if let block = statement.block, let inner = ConfigContext.allCases.first(where: { $0.name == name }) {
                    walk(block, in: inner)
                }
            }
        }
        walk(statements, in: .main)
        return found
    }

    @Test func theExample_parses() throws {
        let config = try parseValid(try Self.read("proxy.conf.example"))
        #expect(config.routes.map(\.prefix) == ["/", "/agent/"])
    }

    @Test func theExample_usesOnlyDirectivesOfTheTable_inContextsTheTableAllows() throws {
        let statements = try Self.exampleStatements()
        #expect(statements.count > 30)
        for statement in statements {
            #expect(ConfigDirective.named(statement.name, in: statement.context) != nil,
                    "proxy.conf.example:\(statement.line): \(statement.name) is not a directive of \(statement.context.name)")
        }
    }

    @Test func theExample_showsEveryDirectiveOfTheTable() throws {
        let shown = Set(try Self.exampleStatements().map { "\($0.name) \($0.context.name)" })
        for directive in ConfigDirective.all {
            #expect(directive.contexts.contains { shown.contains("\(directive.name) \($0.name)") },
                    "proxy.conf.example does not show \(Self.key(directive))")
        }
    }

    // MARK: - docs/configuration.md

    /// One `Syntax:` / `Default:` / `Context:` group of the reference.
    struct DocumentedDirective {
        var line: Int
        var syntax: String
        var defaultLine: String?
        var contexts: String?

        var name: String { String(syntax.prefix { $0 != " " }) }
    }

    /// The groups of `docs/configuration.md`, in order; a `Syntax:` line starts a group.
    static func documentedDirectives() throws -> [DocumentedDirective] {
        var found: [DocumentedDirective] = []
        for (index, rawLine) in try read("docs/configuration.md").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            func value(after label: String) -> String? {
                line.hasPrefix(label) ? line.dropFirst(label.count).trimmingCharacters(in: .whitespaces) : nil
            }
            if let syntax = value(after: "Syntax:") {
                found.append(DocumentedDirective(line: index + 1, syntax: syntax))
                continue
            }
            let isDefault = value(after: "Default:") != nil
            guard let text = value(after: "Default:") ?? value(after: "Context:") else { continue }
            guard let last = found.indices.last,
                  (isDefault ? found[last].defaultLine : found[last].contexts) == nil else {
                Issue.record("docs/configuration.md:\(index + 1): \(isDefault ? "Default" : "Context"): without its Syntax:")
                continue
            }
            if isDefault { found[last].defaultLine = text } else { found[last].contexts = text }
        }
        return found
    }

    @Test func theReference_documentsEveryDirectiveOnce_withTheTablesSyntaxDefaultAndContext() throws {
        let documented = try Self.documentedDirectives()
        var covered: [String: Int] = [:]
        for entry in documented {
            let place = "docs/configuration.md:\(entry.line)"
            let rows = ConfigDirective.all.filter { $0.name == entry.name }
            let contexts = { (row: ConfigDirective) in row.contexts.map(\.name).joined(separator: ", ") }
            guard let row = rows.first(where: { contexts($0) == entry.contexts })
                ?? rows.first(where: { $0.syntax == entry.syntax }) ?? (rows.count == 1 ? rows[0] : nil)
            else {
                Issue.record("\(place): documents \(entry.name), which the table lacks (in \(entry.contexts ?? "no context"))")
                continue
            }
            if let first = covered.updateValue(entry.line, forKey: Self.key(row)) {
                Issue.record("\(place): \(Self.key(row)) is documented twice, first at line \(first)")
            }
            #expect(entry.syntax == row.syntax, "\(place): Syntax of \(row.name)")
            #expect(entry.defaultLine == Self.defaultLine(row), "\(place): Default of \(row.name)")
            #expect(entry.contexts == contexts(row), "\(place): Context of \(row.name)")
        }
        for row in ConfigDirective.all where covered[Self.key(row)] == nil {
            Issue.record("docs/configuration.md lacks \(Self.key(row))")
        }
        #expect(documented.count == ConfigDirective.all.count)
    }
}
