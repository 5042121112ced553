/// Which page origins may read a route's responses across origins (`cors_allow_origin`; WHATWG Fetch §3.2
/// "CORS protocol").
public enum CORSAllowedOrigins: Sendable, Equatable {
    /// `cors_allow_origin off;` (the default): ssekeeper adds nothing and answers no preflight; CORS is the
    /// backend's business.
    case off
    /// `cors_allow_origin *;`: every origin, answered with the literal `Access-Control-Allow-Origin: *`. Never
    /// together with `cors_allow_credentials on` (refused at config load: see `CORSPolicy`).
    case any
    /// `cors_allow_origin ORIGIN ...;`: these origins, each in the serialization a browser sends in `Origin`
    /// (`https://app.example`, `http://127.0.0.1:8080`: lowercase, no default port, no path), compared exactly.
    case list([String])

    /// The most origins one `cors_allow_origin` may list: lookups are linear, and a longer list belongs in the
    /// backend.
    public static let maxOrigins = 100
}
