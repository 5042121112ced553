/// Picks the route for a request path: the longest matching prefix wins.
///
/// Built once per config. Matching is byte-wise on the path (the request target up to `?`), so `/api`
/// matches `/api`, `/api/` and `/apix`; write `/api/` to require the slash. No route → the caller answers 404.
public struct Router: Sendable {
    private let routesLongestFirst: [Route]
    /// Their prefixes' bytes, in the same order: compared with a path's bytes in place (`starts(with:)` over two
    /// `String.UTF8View`s cost about 170 instructions per request, callgrind).
    private let prefixesLongestFirst: [[UInt8]]

    public init(routes: [Route]) {
        routesLongestFirst = routes.sorted { $0.prefix.utf8.count > $1.prefix.utf8.count }
        prefixesLongestFirst = routesLongestFirst.map { Array($0.prefix.utf8) }
    }

    /// The routes in the order they are tried: `match(path:)`'s indices are positions here.
    public var routesInMatchOrder: [Route] { routesLongestFirst }

    /// The route whose prefix is the longest prefix of `path`, or nil.
    public func route(forPath path: String) -> Route? {
        match(path: path)?.route
    }

    /// The route whose prefix is the longest prefix of `path` and its position in `routesInMatchOrder`, by which
    /// the shell keeps what it resolved per route (its upstream) in an array instead of a dictionary by name.
    public func match(path: String) -> (route: Route, index: Int)? {
        var path = path
        let found = path.withUTF8 { bytes in
            prefixesLongestFirst.firstIndex { prefix in
                prefix.count <= bytes.count && prefix.withUnsafeBufferPointer { prefix in
                    prefix.indices.allSatisfy { prefix[$0] == bytes[$0] }
                }
            }
        }
        return found.map { (routesLongestFirst[$0], $0) }
    }
}
