/// The one argument of a statement being applied, with what a directive's handler needs to read and report it.
///
/// Built by `ConfigBuilder` after `check` accepted the statement (known directive, right context, right shape,
/// not repeated, an argument present), so `text` is always there: a statement holding an `.invalid` token is
/// damaged and never applied.
struct ConfigArgument: Sendable {
    /// The directive's name, e.g. `idle_timeout`, for messages such as "idle_timeout must be between ...".
    var name: String
    /// The argument token, where errors about the value are reported.
    var token: ConfigToken
    /// The argument's text (a word, or a quoted string already unescaped).
    var text: String
    /// The block the statement stands in: a stream setting is stored into the top-level defaults or into the
    /// route being read according to it.
    var context: ConfigContext
}
