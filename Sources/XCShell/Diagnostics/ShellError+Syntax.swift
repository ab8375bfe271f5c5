extension ShellError {
  static func unexpected(_ what: String, expected: String, at span: Span, partial: Bool = false)
    -> ShellError
  {
    ShellError(
      .parseUnexpected, "unexpected \(what), expected \(expected)", at: span, partial: partial)
  }

  static func unterminated(_ what: String, at span: Span, closer: String) -> ShellError {
    ShellError(
      .parseUnterminated, "unterminated \(what)", at: span, note: "opened here",
      help: "add the closing \(closer)", partial: true)
  }

  static func badLiteral(_ text: String, _ why: String, at span: Span) -> ShellError {
    ShellError(.parseLiteral, "invalid literal `\(text)`: \(why)", at: span)
  }
}
