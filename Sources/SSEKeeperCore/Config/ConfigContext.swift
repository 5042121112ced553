/// Where a directive appears: at top level, or inside an `upstream` or `route` block (nginx's command contexts,
/// `NGX_MAIN_CONF`, `NGX_HTTP_UPS_CONF`, `NGX_HTTP_LOC_CONF`).
enum ConfigContext: Sendable, Equatable, CaseIterable {
    case main
    case upstream
    case route

    /// `main`, `upstream`, `route`: the context's name on a `Context:` line of `docs/configuration.md`.
    var name: String {
        switch self {
        case .main: "main"
        case .upstream: "upstream"
        case .route: "route"
        }
    }

    /// `at top level`, `in an upstream block`, `in a route block`: ready to follow "is not allowed".
    var phrase: String {
        switch self {
        case .main: "at top level"
        case .upstream: "in an upstream block"
        case .route: "in a route block"
        }
    }
}
