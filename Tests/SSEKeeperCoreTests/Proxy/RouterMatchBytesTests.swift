import Testing
@testable import SSEKeeperCore

/// `Router.match` and `RequestHead.path` compare and search bytes in place; these check them against the plain
/// `String.UTF8View` forms they replaced, for random paths and prefixes, short (inline) and long strings alike.
struct RouterMatchBytesTests {
    /// Pieces that make prefixes of each other likely, with a multi-byte character and a `?`.
    static let pieces = ["/", "a", "api", "/api", "/stream", "é", "?", "x=1", "/events", "-", "0123456789abcdef"]

    static func text(_ random: inout SplitMix64, maxPieces: Int) -> String {
        (0..<Int(random.next() % UInt64(maxPieces + 1))).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    @Test func match_findsWhatUTF8StartsWithFinds_longestFirst() {
        var random = SplitMix64(seed: 0x70a7e)
        for _ in 0..<300 {
            let prefixes = (0..<(1 + Int(random.next() % 5))).map { _ in "/" + Self.text(&random, maxPieces: 4) }
            let routes = prefixes.map { Route(prefix: $0, upstreamName: $0, settings: RouterTests.settings) }
            let router = Router(routes: routes)
            for _ in 0..<20 {
                let path = "/" + Self.text(&random, maxPieces: 8)
                let expected = router.routesInMatchOrder.firstIndex { path.utf8.starts(with: $0.prefix.utf8) }
                let found = router.match(path: path)
                #expect(found?.index == expected, "path \(path) prefixes \(prefixes)")
                if let found { #expect(found.route.prefix == router.routesInMatchOrder[found.index].prefix) }
            }
        }
    }

    @Test func path_isTheTargetUpToTheFirstQuestionMark() {
        var random = SplitMix64(seed: 0x9a7)
        for _ in 0..<2_000 {
            let target = "/" + Self.text(&random, maxPieces: 8)
            let expected = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
            #expect(RequestHead(method: "GET", target: target).path == expected, "target \(target)")
        }
    }
}
