/// What ssekeeper does about CORS for one request (see `CORSPolicy.decide(_:)`).
public enum CORSDecision: Sendable, Equatable {
    /// Nothing: the request goes to the backend and its response is passed on as it is (`cors_allow_origin off`).
    case none
    /// A CORS preflight from an allowed origin: ssekeeper answers it itself, `204` with these fields (see
    /// `CORSPolicy.preflightResponse`); the backend never sees it.
    case answerPreflight([HTTPField])
    /// The request goes to the backend; these fields join its response head, unless the backend answered with
    /// an `Access-Control-Allow-Origin` of its own (`CORSPolicy.fields(_:toAddTo:)`). Never empty.
    case addToResponse([HTTPField])

    /// The fields to add to the backend's response: those of `addToResponse`, else none.
    public var responseFields: [HTTPField] {
        if case .addToResponse(let fields) = self { fields } else { [] }
    }
}
