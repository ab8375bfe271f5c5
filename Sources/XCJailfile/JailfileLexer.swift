/// The character level of the Jailfile grammar (spec xc-cli.md §4.1): blanks and line
/// continuations, directive names, values (bare text and quoted strings that touch), heredocs.
///
/// It tracks line and column as it moves, so every token the parser builds carries its span.
struct JailfileLexer {
  private let chars: [Character]
  private(set) var index = 0
  private(set) var location = JailfileLocation(line: 1, column: 1)
  let file: String

  init(_ text: String, file: String) {
    chars = Array(text)
    self.file = file
  }

  var atEnd: Bool { index >= chars.count }
  var current: Character? { index < chars.count ? chars[index] : nil }
  func peek(_ n: Int) -> Character? { index + n < chars.count ? chars[index + n] : nil }

  static func isNewline(_ c: Character?) -> Bool { c == "\n" || c == "\r\n" || c == "\r" }
  static func isBlank(_ c: Character?) -> Bool { c == " " || c == "\t" }
  static func isNameStart(_ c: Character?) -> Bool { c.map { ("A"..."Z").contains($0) || $0 == "_" } ?? false }
  static func isNameChar(_ c: Character?) -> Bool { isNameStart(c) || (c.map { ("0"..."9").contains($0) } ?? false) }
  static func isIdentStart(_ c: Character?) -> Bool {
    c.map { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" } ?? false
  }
  static func isIdentChar(_ c: Character?) -> Bool { isIdentStart(c) || (c.map { ("0"..."9").contains($0) } ?? false) }

  /// Whether a `\` followed by a newline starts here (a line continuation).
  var atContinuation: Bool { current == "\\" && Self.isNewline(peek(1)) }

  mutating func advance() {
    guard let c = current else { return }
    index += 1
    if Self.isNewline(c) {
      location = JailfileLocation(line: location.line + 1, column: 1)
    } else {
      location.column += 1
    }
  }

  /// Skips spaces, tabs and `\`-newline continuations (the implicit whitespace between tokens).
  mutating func skipSpace() {
    while true {
      if Self.isBlank(current) {
        advance()
      } else if atContinuation {
        advance()
        advance()
      } else {
        return
      }
    }
  }

  /// Skips to the end of the line (not past the newline).
  mutating func skipLine() {
    while let c = current, !Self.isNewline(c) { advance() }
  }

  func error(_ message: String, at location: JailfileLocation? = nil, help: String? = nil) -> JailfileError {
    JailfileError(file: file, location ?? self.location, message, help: help)
  }

  /// Describes the current character for "found …" in messages.
  var foundDescription: String {
    guard let c = current else { return "the end of the file" }
    if Self.isNewline(c) { return "the end of the line" }
    return "`\(c)`"
  }

  /// `[A-Z_][A-Z0-9_]*`
  mutating func readName() -> String {
    var s = ""
    while Self.isNameChar(current) {
      s.append(current!)
      advance()
    }
    return s
  }

  /// `[A-Za-z_][A-Za-z0-9_]*`
  mutating func readIdent() -> String {
    var s = ""
    while Self.isIdentChar(current) {
      s.append(current!)
      advance()
    }
    return s
  }

  /// A value: touching quoted strings and bare runs. `stops` ends bare text early (`,` and `]`
  /// inside `[arguments]`). Returns nil when no value starts here.
  mutating func readWord(stops: Set<Character> = []) throws(JailfileError) -> JailfileWord? {
    let start = location
    var raw = ""
    var text = ""
    var first = true
    while let c = current {
      if c == "\"" || c == "'" {
        let (quoted, inner) = try readQuoted(c)
        raw += quoted
        text += first ? inner : quoted
      } else if Self.isBlank(c) || Self.isNewline(c) || atContinuation || stops.contains(c) {
        break
      } else {
        raw.append(c)
        text.append(c)
        advance()
      }
      first = false
    }
    if raw.isEmpty { return nil }
    return JailfileWord(text: text, raw: raw, span: JailfileSpan(start, location))
  }

  /// A quoted string starting at the quote `q`; returns (as written, inside the quotes).
  /// `\q` does not end it; it may span lines.
  private mutating func readQuoted(_ q: Character) throws(JailfileError) -> (String, String) {
    let start = location
    advance()
    var inner = ""
    while let c = current {
      if c == "\\", peek(1) == q {
        inner.append(c)
        inner.append(q)
        advance()
        advance()
      } else if c == q {
        advance()
        return (String(q) + inner + String(q), inner)
      } else {
        inner.append(c)
        advance()
      }
    }
    throw error(
      "this string is not closed: expected a closing \(q == "\"" ? "`\"`" : "`'`") before the end of the file",
      at: start)
  }

  /// Whether a heredoc (`<<TAG` or `<<-TAG`) starts here.
  var atHeredoc: Bool {
    guard current == "<", peek(1) == "<" else { return false }
    return Self.isNameStart(peek(2)) || (peek(2) == "-" && Self.isNameStart(peek(3)))
  }

  /// `<<[-]TAG body TAG`: the body is everything after the tag up to the tag's next occurrence.
  mutating func readHeredoc() throws(JailfileError) -> Heredoc {
    let start = location
    advance()
    advance()
    if current == "-" { advance() }
    let tag = readName()
    let tagChars = Array(tag)
    var body = ""
    while !atEnd {
      if chars[index] == tagChars[0], index + tagChars.count <= chars.count,
        Array(chars[index..<index + tagChars.count]) == tagChars
      {
        for _ in tagChars { advance() }
        return Heredoc(tag: tag, body: body, span: JailfileSpan(start, location))
      }
      body.append(chars[index])
      advance()
    }
    throw error(
      "the heredoc `<<\(tag)` is not closed: expected `\(tag)` before the end of the file", at: start)
  }
}
