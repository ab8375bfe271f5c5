/// Builds directives from the lexer's tokens, line by line (spec xc-cli.md §4.1):
///
///     jailfile  = { comment | NEWLINE | directive } ;
///     directive = DNAME [ "[" arg { "," arg } [","] "]" ] { value } [ heredoc ] ;
///
/// A directive ends at the end of its line (continue with `\` + newline, a quoted string that
/// spans lines, or a heredoc). `#` starts a comment only at the beginning of a line.
struct JailfileParser {
  private var lexer: JailfileLexer

  init(_ text: String, file: String) {
    lexer = JailfileLexer(text, file: file)
  }

  mutating func parseAll() throws(JailfileError) -> [Directive] {
    var directives: [Directive] = []
    while true {
      lexer.skipSpace()
      guard let c = lexer.current else { return directives }
      if JailfileLexer.isNewline(c) {
        lexer.advance()
      } else if c == "#" {
        lexer.skipLine()
      } else {
        directives.append(try parseDirective())
      }
    }
  }

  private mutating func parseDirective() throws(JailfileError) -> Directive {
    let start = lexer.location
    let atStart = lexer
    guard JailfileLexer.isNameStart(lexer.current) else {
      throw Self.badName(atStart)
    }
    let name = lexer.readName()
    let nameSpan = JailfileSpan(start, lexer.location)
    var arguments: [DirectiveArgument] = []
    if lexer.current == "[" {
      arguments = try parseArguments(of: name)
    } else if !endsToken(lexer.current) {
      throw Self.badName(atStart)
    }
    var words: [JailfileWord] = []
    var heredoc: Heredoc?
    var end = lexer.location
    while true {
      lexer.skipSpace()
      if lexer.atEnd || JailfileLexer.isNewline(lexer.current) { break }
      if lexer.atHeredoc {
        let doc = try lexer.readHeredoc()
        heredoc = doc
        end = doc.span.end
        lexer.skipSpace()
        guard lexer.atEnd || JailfileLexer.isNewline(lexer.current) else {
          throw lexer.error(
            "expected the end of the line after the heredoc's closing `\(doc.tag)`, found \(lexer.foundDescription)",
            help: "a heredoc must be the last thing in its directive")
        }
        break
      }
      guard let word = try lexer.readWord() else {
        throw lexer.error("expected a value, found \(lexer.foundDescription)")
      }
      words.append(word)
      end = word.span.end
    }
    if arguments.last.map({ $0.span.end > end }) ?? false { end = arguments.last!.span.end }
    return Directive(
      name: name, nameSpan: nameSpan, arguments: arguments, words: words, heredoc: heredoc,
      span: JailfileSpan(start, end))
  }

  /// Whether `c` may follow a directive name (blank, continuation, end of line or file).
  private func endsToken(_ c: Character?) -> Bool {
    c == nil || JailfileLexer.isBlank(c) || JailfileLexer.isNewline(c) || lexer.atContinuation
  }

  /// The error for a line that does not start with an upper-case directive name.
  private static func badName(_ start: JailfileLexer) -> JailfileError {
    var probe = start
    var word = ""
    while let c = probe.current, !JailfileLexer.isBlank(c), !JailfileLexer.isNewline(c), c != "[" {
      word.append(c)
      probe.advance()
    }
    if word.isEmpty, let c = start.current { word = String(c) }
    let upper = word.uppercased()
    let looksLikeName = word.allSatisfy { JailfileLexer.isIdentChar($0) }
    return start.error(
      "expected a directive name (upper-case, like `RUN`), found `\(word)`",
      help: looksLikeName && upper != word ? "directive names are upper-case: write `\(upper)`" : nil)
  }

  /// `[key:value, …]` right after the name.
  private mutating func parseArguments(of name: String) throws(JailfileError) -> [DirectiveArgument] {
    lexer.advance()  // [
    var arguments: [DirectiveArgument] = []
    while true {
      lexer.skipSpace()
      if lexer.current == "]" {
        lexer.advance()
        return arguments
      }
      let start = lexer.location
      guard JailfileLexer.isIdentStart(lexer.current) else {
        throw lexer.error(
          "expected an argument name or `]` in \(name)'s [arguments], found \(lexer.foundDescription)",
          help: "arguments are written `\(name)[key:value]`")
      }
      let key = lexer.readIdent()
      lexer.skipSpace()
      guard lexer.current == ":" else {
        throw lexer.error("expected `:` after the argument name `\(key)`, found \(lexer.foundDescription)")
      }
      lexer.advance()
      lexer.skipSpace()
      guard let value = try lexer.readWord(stops: [",", "]"]) else {
        throw lexer.error("expected a value for the argument `\(key)`, found \(lexer.foundDescription)")
      }
      arguments.append(DirectiveArgument(key: key, value: value, span: JailfileSpan(start, value.span.end)))
      lexer.skipSpace()
      if lexer.current == "," {
        lexer.advance()
      } else if lexer.current != "]" {
        throw lexer.error("expected `,` or `]` after the argument `\(key)`, found \(lexer.foundDescription)")
      }
    }
  }
}
