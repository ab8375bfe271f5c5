/// Redirections (`>`, `>>`, `2>`, `&>`, `<`, `2>&1`, and Nushell's `o>`, `e>`, `o+e>`, `out>`,
/// `err>`) and the shell operators xcsh does not have (`&`, `<<`, `>&2`).
///
/// A bare operator word must never reach a program as an argument (the command would run with
/// the wrong arguments and the file would not be written), so each is either a redirection or a
/// parse error naming the xcsh way. Quoted (`">"`), they are ordinary strings.
extension Parser {
  /// Operators written as separate words, Nushell's spellings included.
  static let redirectionWords: [String: Redirection.Kind] = [
    ">": .stdout, "1>": .stdout, "o>": .stdout, "out>": .stdout,
    ">>": .appendStdout, "1>>": .appendStdout, "o>>": .appendStdout, "out>>": .appendStdout,
    "2>": .stderr, "e>": .stderr, "err>": .stderr,
    "2>>": .appendStderr, "e>>": .appendStderr, "err>>": .appendStderr,
    "&>": .both, "o+e>": .both, "e+o>": .both, "out+err>": .both, "err+out>": .both,
    "&>>": .appendBoth, "o+e>>": .appendBoth, "e+o>>": .appendBoth, "out+err>>": .appendBoth, "err+out>>": .appendBoth,
    "<": .stdin,
    "2>&1": .stderrToStdout,
  ]

  /// Bash's forms glued to their file (`2>/dev/null`, `>out.txt`, `<in`), longest first.
  static let gluedPrefixes: [(String, Redirection.Kind)] = [
    ("&>>", .appendBoth), ("&>", .both), ("2>>", .appendStderr), ("2>", .stderr), ("1>>", .appendStdout),
    (">>", .appendStdout), ("1>", .stdout), (">", .stdout), ("<", .stdin),
  ]

  /// What a bare word means as a redirection: its kind and the file glued to it (empty if the
  /// file is the next word). Nil for an ordinary word.
  static func redirection(_ w: String) -> (Redirection.Kind, file: String)? {
    if let k = redirectionWords[w] { return (k, "") }
    for (prefix, k) in gluedPrefixes where w.hasPrefix(prefix) {
      return (k, String(w.dropFirst(prefix.count)))
    }
    return nil
  }

  /// The error for an operator word xcsh has no meaning for, if `word` is one.
  static func shellOperatorError(_ word: String, _ span: Span) -> ShellError? {
    let help: String
    if word == "&&" {
      return ShellError.unexpected("`&&`", expected: "a command before it", at: span)
    } else if word == "&" {
      help = "xcsh has no background jobs: `run -d` starts a container, `par-each` runs work in parallel"
    } else if word.hasPrefix("<<") {
      help = "xcsh has no here-documents: pipe a string in, `\"text\" | CMD`"
    } else if word.hasPrefix(">&") || word.hasPrefix("1>&") || (word.hasPrefix("2>&") && word != "2>&1") {
      help = "xcsh redirects to files (`> FILE`, `2> FILE`, `&> FILE`) and `2>&1`; write `print -e` for standard error"
    } else {
      return nil
    }
    return ShellError(
      .parseOperator, "`\(word)` is not an operator in xcsh", at: span,
      note: "quote it (`\"\(word)\"`) to pass it as text", help: help)
  }
}
