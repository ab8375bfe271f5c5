extension ShellError {
  static func unexpected(_ what: String, expected: String, at span: Span, partial: Bool = false)
    -> ShellError
  {
    ShellError(
      "parse.unexpected", "unexpected \(what), expected \(expected)", at: span, partial: partial)
  }

  static func unterminated(_ what: String, at span: Span, closer: String) -> ShellError {
    ShellError(
      "parse.unterminated", "unterminated \(what)", at: span, note: "opened here",
      help: "add the closing \(closer)", partial: true)
  }

  static func badLiteral(_ text: String, _ why: String, at span: Span) -> ShellError {
    ShellError("parse.literal", "invalid literal `\(text)`: \(why)", at: span)
  }
}
