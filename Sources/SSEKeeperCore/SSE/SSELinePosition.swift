/// Where an event-stream line parser stands after the bytes it has seen (WHATWG HTML §9.2.5 "Parsing an event
/// stream": `end-of-line = ( cr lf / cr / lf )`; §9.2.6 "Interpreting an event stream").
///
/// Shared by every piece that follows SSE lines (`SSELineMachine` advances it); `SSEStreamTracker.LinePosition`
/// and `SSEEventAssembler.LinePosition` are this type.
public enum SSELinePosition: Sendable, Equatable {
    /// At the start of a line: nothing was seen yet, or the last byte was an LF (alone or ending a CRLF).
    case lineStart
    /// The last byte was a CR: the line has ended, but an LF arriving next is swallowed as the second half of
    /// CRLF, even when it comes in a later read.
    case afterCarriageReturn
    /// Inside a line: at least one byte of it was seen and its line end was not.
    case midLine
}
