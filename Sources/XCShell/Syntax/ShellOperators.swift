/// Words a bash, fish or Nushell user writes as operators that xcsh has no such meaning for.
///
/// A bare `>` or `2>/dev/null` must never reach a program as an argument (the command would
/// run with the wrong arguments and the file would not be written), so each is a parse error
/// naming the xcsh way. Quoted (`">"`), they are ordinary strings.
extension Parser {
  static func shellOperatorError(_ word: String, _ span: Span) -> ShellError? {
    guard let kind = redirection(word) else { return nil }
    let help: String
    switch kind {
    case .chainStart:
      return ShellError.unexpected("`&&`", expected: "a command before it", at: span)
    case .stdout:
      help = "xcsh pipes values: write `CMD | save FILE` (`save --force FILE` to overwrite)"
    case .append:
      help = "xcsh pipes values: write `CMD | save --append FILE`"
    case .stderr:
      help =
        "xcsh does not redirect standard error; `CMD | complete` captures stdout and the exit code, or run `sh -c 'CMD 2>FILE'`"
    case .stdin:
      help = "xcsh pipes values: write `open FILE | CMD`"
    case .background:
      help = "xcsh has no background jobs: `run -d` starts a container, `par-each` runs work in parallel"
    }
    return ShellError(
      "parse.redirection", "`\(word)` is not an operator in xcsh", at: span,
      note: "quote it (`\"\(word)\"`) to pass it as text", help: help)
  }

  enum Redirection { case chainStart, stdout, append, stderr, stdin, background }

  /// What a shell word means in bash or Nushell, if it is a redirection or a job operator.
  static func redirection(_ w: String) -> Redirection? {
    switch w {
    case "&&": return .chainStart
    case "&": return .background
    case ">>", "1>>", "o>>", "out>>": return .append
    case "<", "<<", "<<<": return .stdin
    default: break
    }
    let stderrPrefixes = ["2>", "&>", "e>", "err>", "o+e>", "e+o>", "out+err>", "err+out>", ">&"]
    if stderrPrefixes.contains(where: { w.hasPrefix($0) }) { return .stderr }
    if w.hasPrefix(">>") || w.hasPrefix("1>>") { return .append }
    if w.hasPrefix(">") || w.hasPrefix("1>") || w == "o>" || w == "out>" { return .stdout }
    if w.hasPrefix("<") { return .stdin }
    return nil
  }
}
