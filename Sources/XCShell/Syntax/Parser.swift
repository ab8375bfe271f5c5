/// Builds the syntax tree from tokens: statements, pipelines, commands and expressions.
///
/// The parser recovers at statement boundaries, so one pass reports every syntax error in a
/// file (`--check` prints them all). Errors that more input would fix are marked `partial`, which
/// the REPL reads as "continue the line".
public struct Parser {
  var lexer: Lexer
  let context: any ParserContext
  public private(set) var errors: [ShellError] = []
  /// Innermost bracket first: inside `(` and `[` newlines are whitespace; inside `{` they end statements.
  private var nesting: [UInt8] = []
  private var depth = 0
  private static let maxDepth = 200
  private static let maxRecursion = 2000
  /// Module names brought in by `use FILE` (without names): `MODULE fn` joins into one command.
  private var modules: Set<String> = []

  public init(source: Source, context: any ParserContext, start: Int = 0, end: Int? = nil) {
    self.lexer = Lexer(source: source, start: start, end: end)
    self.context = context
  }

  /// Parses a whole source into a block, throwing every error found.
  public static func parse(_ source: Source, context: any ParserContext) throws(ShellErrors) -> Block {
    var parser = Parser(source: source, context: context)
    let block = parser.parseProgram()
    if !parser.errors.isEmpty { throw ShellErrors(parser.errors) }
    return block
  }

  /// Parses a whole source, returning the block and the errors (for `--check`).
  public mutating func parseProgram() -> Block {
    let statements = parseStatements(closer: nil)
    let end = lexer.source.bytes.count
    return Block(statements: statements, span: span(0, end))
  }

  // MARK: - Helpers

  private func span(_ s: Int, _ e: Int) -> Span { Span(source: lexer.source.id, start: s, end: e) }

  private var newlinesAreSpace: Bool {
    guard let top = nesting.last else { return false }
    return top == UInt8(ascii: "(") || top == UInt8(ascii: "[")
  }

  private func peek(_ mode: Lexer.Mode = .expression) throws -> Token {
    guard newlinesAreSpace else { return try lexer.peek(mode) }
    var copy = lexer
    copy.skipTrivia(newlines: true)
    return try copy.peek(mode)
  }

  @discardableResult
  private mutating func next(_ mode: Lexer.Mode = .expression) throws -> Token {
    if newlinesAreSpace { lexer.skipTrivia(newlines: true) }
    return try lexer.next(mode)
  }

  private mutating func expect(_ p: String, _ what: String, opener: Token? = nil) throws -> Token {
    let t = try peek()
    guard t.isPunct(p) else {
      if t.kind == .eof, let opener {
        throw ShellError.unterminated(what, at: opener.span, closer: "`\(p)`")
      }
      throw ShellError.unexpected(describe(t), expected: "`\(p)`", at: t.span, partial: t.kind == .eof)
    }
    return try next()
  }

  private func describe(_ t: Token) -> String {
    switch t.kind {
    case .eof: "end of input"
    case .terminator: lexer.source.text(of: t.span) == ";" ? "`;`" : "end of line"
    case .word(let w): "word `\(w)`"
    case .punct(let p): "`\(p)`"
    case .string, .rawString: "string"
    case .int, .float: "number"
    case .variable(let v): "variable `$\(v)`"
    case .flag: "flag `\(lexer.source.text(of: t.span))`"
    case .endOfFlags: "`--`"
    case .external(let n): "`^\(n)`"
    case .duration: "duration"
    case .size: "size"
    }
  }

  private mutating func skipTerminators() throws {
    while true {
      lexer.skipTrivia(newlines: true)
      let t = try lexer.peek(.command)
      guard t.kind == .terminator else { return }
      try lexer.next(.command)
    }
  }

  /// Guards recursion. Users see the bracket depth (`(`, `[`, `{` open at once) limited to 200;
  /// the recursion count has its own, larger bound for chains like `- - - 1` that open nothing.
  private mutating func enter(_ at: Span) throws {
    depth += 1
    if nesting.count >= Parser.maxDepth {
      throw ShellError(.parseDepth, "nesting is too deep (more than \(Parser.maxDepth) levels)", at: at)
    }
    if depth > Parser.maxRecursion {
      throw ShellError(.parseDepth, "expression is too deeply nested", at: at)
    }
  }

  // MARK: - Statements

  private mutating func parseStatements(closer: String?) -> [Statement] {
    var statements: [Statement] = []
    while true {
      do {
        try skipTerminators()
        let t = try lexer.peek(.command)
        // At the end of input an open block is reported by its opener (`parseBlock`).
        if t.kind == .eof { break }
        if let closer, t.isPunct(closer) { break }
        if t.isPunct("}") || t.isPunct(")") || t.isPunct("]") {
          throw ShellError.unexpected(describe(t), expected: "a statement", at: t.span)
        }
        let s = try parseStatement()
        statements.append(s)
        let after = try peek(.command)
        switch after.kind {
        case .terminator, .eof: break
        case .punct(let p) where p == closer: break
        default:
          throw ShellError.unexpected(describe(after), expected: "end of statement", at: after.span)
        }
      } catch let e as ShellError {
        errors.append(e)
        if e.partial || !recover(closer: closer) { break }
      } catch {
        break
      }
    }
    return statements
  }

  /// Skips to the next statement boundary at this nesting level; false at end of input.
  private mutating func recover(closer: String?) -> Bool {
    var level = 0
    while true {
      guard let t = try? lexer.next(.command) else {
        // Step over the offending character.
        if lexer.atEnd { return false }
        lexer.position += 1
        continue
      }
      switch t.kind {
      case .eof: return false
      case .terminator where level == 0: return true
      case .punct(let p):
        if p == "(" || p == "[" || p == "{" || p == "$(" { level += 1 }
        if p == ")" || p == "]" || p == "}" {
          if level == 0 {
            if p == closer {
              lexer.position = Int(t.span.start)
              return true
            }
          } else {
            level -= 1
          }
        }
      default: continue
      }
    }
  }

  mutating func parseStatement() throws -> Statement {
    let t = try peek(.command)
    let start = Int(t.span.start)
    if case .word(let w) = t.kind {
      switch w {
      case "let", "var": return try parseLet(mutable: w == "var")
      case "const":
        let s = try parseLet(mutable: false, keyword: "const")
        if case .letDecl(_, _, _, _, let value) = s.kind { try Parser.requireConstant(value) }
        return s
      case "fn": return try parseFunction()
      case "for": return try parseFor()
      case "while":
        try next(.command)
        let cond = try parseExpression()
        let body = try parseBlock()
        return Statement(kind: .whileLoop(condition: cond, body: body), span: span(start, Int(body.span.end)))
      case "loop":
        try next(.command)
        let body = try parseBlock()
        return Statement(kind: .loop(body: body), span: span(start, Int(body.span.end)))
      case "break", "continue":
        try next(.command)
        return Statement(kind: w == "break" ? .breakLoop : .continueLoop, span: t.span)
      case "return":
        try next(.command)
        let n = try peek(.command)
        if n.kind == .terminator || n.kind == .eof || n.isPunct("}") {
          return Statement(kind: .returnValue(nil), span: t.span)
        }
        let p = try parsePipeline()
        return Statement(kind: .returnValue(p), span: t.span.to(p.span))
      case "defer":
        try next(.command)
        let body = try parseBlock()
        return Statement(kind: .deferBlock(body), span: span(start, Int(body.span.end)))
      case "source", "use":
        try next(.command)
        let path = try parseArgumentAtom(.command)
        if w == "source" {
          return Statement(kind: .source(path: path), span: t.span.to(path.span))
        }
        var names: [String]? = nil
        var end = path.span
        if case .literal(let v) = path.kind, case .string(let p) = v.kind {
          let file = p.split(separator: "/").last.map(String.init) ?? p
          modules.insert(file.split(separator: ".").first.map(String.init) ?? file)
        }
        let n = try peek(.command)
        if n.isWord("*") {
          try next(.command)
          names = []
          end = n.span
        } else if n.isPunct("[") {
          let list = try parseArgumentAtom(.command)
          end = list.span
          guard case .list(let items) = list.kind else { throw ShellError.unexpected("value", expected: "a list of names", at: list.span) }
          names = try items.map { item in
            guard case .literal(let v) = item.kind, case .string(let s) = v.kind else {
              throw ShellError.unexpected("value", expected: "a function name", at: item.span)
            }
            return s
          }
        }
        return Statement(kind: .use(path: path, names: names), span: t.span.to(end))
      default:
        if let assignment = try parseAssignmentIfAny() { return assignment }
      }
    } else if case .variable = t.kind, let assignment = try parseAssignmentIfAny() {
      return assignment
    }
    let p = try parsePipeline()
    return Statement(kind: .pipeline(p), span: p.span)
  }

  private static let assignOps: Set<String> = ["=", "+=", "-=", "*=", "/=", "++=", "//="]

  /// `name = …`, `name.path += …`, `$env.NAME = …`; restores the position if it is not one.
  private mutating func parseAssignmentIfAny() throws -> Statement? {
    let save = lexer.position
    let first = try next(.expression)
    let name: String
    switch first.kind {
    case .word(let w): name = w
    case .variable(let v): name = v
    default: lexer.position = save; return nil
    }
    var path: [PathMember] = []
    while lexer.peekByte() == UInt8(ascii: "."), let m = parsePathMember() { path.append(m) }
    guard let op = try? lexer.peek(.expression), case .punct(let o) = op.kind, Parser.assignOps.contains(o)
    else {
      lexer.position = save
      return nil
    }
    try lexer.next(.expression)
    let value = try parsePipeline()
    let target = AssignTarget(name: name, span: first.span, path: path)
    return Statement(kind: .assign(target: target, op: BinaryOp.compound(o), value: value), span: first.span.to(value.span))
  }

  private mutating func parseLet(mutable: Bool, keyword: String? = nil) throws -> Statement {
    let kw = try next(.command)
    let nameTok = try next(.expression)
    guard case .word(let name) = nameTok.kind else {
      throw ShellError.unexpected(describe(nameTok), expected: "a variable name after `\(keyword ?? (mutable ? "var" : "let"))`",
        at: nameTok.span, partial: nameTok.kind == .eof)
    }
    var type: TypeAnnotation? = nil
    if try peek().isPunct(":") {
      try next()
      let tt = try next()
      guard case .word(let tn) = tt.kind else { throw ShellError.unexpected(describe(tt), expected: "a type name", at: tt.span) }
      type = TypeAnnotation(name: tn, span: tt.span)
    }
    let eq = try peek()
    guard eq.isPunct("=") else {
      throw ShellError.unexpected(describe(eq), expected: "`=`", at: eq.span, partial: eq.kind == .eof)
    }
    try next()
    let value = try parsePipeline()
    return Statement(
      kind: .letDecl(name: name, nameSpan: nameTok.span, mutable: mutable, type: type, value: value),
      span: kw.span.to(value.span))
  }

  /// `const x = …` takes a value known before the script runs: literals, lists, records,
  /// ranges and operators on them (no variables, commands or closures).
  static func requireConstant(_ p: Pipeline) throws {
    guard p.chain.isEmpty, p.elements.count == 1, case .expression(let e) = p.elements[0] else {
      throw notConstant(p.span)
    }
    try requireConstant(e)
  }

  static func requireConstant(_ e: Expr) throws {
    switch e.kind {
    case .literal: return
    case .list(let items): try items.forEach(requireConstant)
    case .record(let fields):
      for f in fields {
        try requireConstant(f.key)
        try requireConstant(f.value)
      }
    case .unary(_, let x): try requireConstant(x)
    case .binary(_, _, let l, let r):
      try requireConstant(l)
      try requireConstant(r)
    case .range(let a, let b, _):
      if let a { try requireConstant(a) }
      if let b { try requireConstant(b) }
    case .interpolated(let parts):
      for case .expr(let x) in parts { try requireConstant(x) }
    case .subexpression(let p): try requireConstant(p)
    case .spread(let x): try requireConstant(x)
    default: throw notConstant(e.span)
    }
  }

  private static func notConstant(_ span: Span) -> ShellError {
    ShellError(
      .parseConst, "a `const` value must be known before the script runs", at: span,
      note: "computed when it runs", help: "use `let` for a value computed at run time")
  }

  private mutating func parseFor() throws -> Statement {
    let kw = try next(.command)
    let nameTok = try next(.expression)
    guard case .word(let name) = nameTok.kind else {
      throw ShellError.unexpected(describe(nameTok), expected: "a loop variable name", at: nameTok.span)
    }
    var index: (String, Span)? = nil
    if try peek().isPunct(",") {
      try next()
      let second = try next(.expression)
      guard case .word(let n2) = second.kind else {
        throw ShellError.unexpected(describe(second), expected: "a loop variable name", at: second.span)
      }
      index = (name, nameTok.span)
      let inTok = try next(.expression)
      guard inTok.isWord("in") else { throw ShellError.unexpected(describe(inTok), expected: "`in`", at: inTok.span) }
      let iterable = try parseExpression()
      let body = try parseBlock()
      return Statement(
        kind: .forLoop(name: n2, nameSpan: second.span, index: index, iterable: iterable, body: body),
        span: kw.span.to(body.span))
    }
    let inTok = try next(.expression)
    guard inTok.isWord("in") else {
      throw ShellError.unexpected(describe(inTok), expected: "`in`", at: inTok.span, partial: inTok.kind == .eof)
    }
    let iterable = try parseExpression()
    let body = try parseBlock()
    return Statement(
      kind: .forLoop(name: name, nameSpan: nameTok.span, index: nil, iterable: iterable, body: body),
      span: kw.span.to(body.span))
  }

  private mutating func parseFunction() throws -> Statement {
    let kw = try next(.command)
    let nameTok = try next(.command)
    let name: String
    switch nameTok.kind {
    case .word(let w): name = w
    case .string(let parts) where parts.count <= 1:
      if case .text(let s)? = parts.first { name = s } else { name = "" }
    case .rawString(let s): name = s
    default:
      throw ShellError.unexpected(describe(nameTok), expected: "a function name", at: nameTok.span, partial: nameTok.kind == .eof)
    }
    guard !name.isEmpty else { throw ShellError(.parseName, "a function needs a name", at: nameTok.span) }
    var params: [ParameterDecl] = []
    if try peek().isPunct("[") { params = try parseParameters(closer: "]") }
    let body = try parseBlock()
    let decl = FunctionDecl(
      name: name, nameSpan: nameTok.span, parameters: params, body: body,
      doc: docComment(before: Int(kw.span.start)), span: kw.span.to(body.span))
    return Statement(kind: .fnDecl(decl), span: decl.span)
  }

  /// The `#` lines directly above `offset`, without the `#`.
  private func docComment(before offset: Int) -> String {
    let bytes = lexer.source.bytes
    var lines: [String] = []
    var lineStart = offset
    while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
    var cursor = lineStart
    while cursor > 0 {
      let end = cursor - 1
      var s = end
      while s > 0, bytes[s - 1] != 0x0A { s -= 1 }
      let line = String(decoding: bytes[s..<end], as: UTF8.self).trimmingSpaces()
      guard line.hasPrefix("#") else { break }
      var text = String(line.dropFirst())
      if text.hasPrefix(" ") { text.removeFirst() }
      lines.insert(text, at: 0)
      cursor = s
    }
    return lines.joined(separator: "\n")
  }

  /// `[a, b: int, c: string = "x", --force(-f), --count: int = 1, ...rest]` or `|a, b|`.
  private mutating func parseParameters(closer: String) throws -> [ParameterDecl] {
    let open = try next()
    if closer == "]" { nesting.append(UInt8(ascii: "[")) }
    defer { if closer == "]" { nesting.removeLast() } }
    var params: [ParameterDecl] = []
    while true {
      var t = try peek()
      if t.isPunct(closer) || (closer == "|" && t.isPunct("||")) { try next(); break }
      if t.kind == .eof { throw ShellError.unterminated("parameter list", at: open.span, closer: "`\(closer)`") }
      if t.isPunct(",") { try next(); continue }
      var kind = ParameterDecl.Kind.positional
      let start = Int(t.span.start)
      if t.isPunct("-") {
        try next()
        guard try peek().isPunct("-") else { throw ShellError.unexpected("`-`", expected: "`--name` for a flag", at: t.span) }
        try next()
        kind = .flag
      } else if t.isPunct("..") {
        try next()
        guard try peek().isPunct(".") else { throw ShellError.unexpected("`..`", expected: "`...name` for a rest parameter", at: t.span) }
        try next()
        kind = .rest
      }
      t = try next()
      guard case .word(let name) = t.kind else {
        throw ShellError.unexpected(describe(t), expected: "a parameter name", at: t.span, partial: t.kind == .eof)
      }
      var p = ParameterDecl(
        name: name, span: span(start, Int(t.span.end)), kind: kind, type: nil, defaultValue: nil, short: nil,
        optional: false, doc: "")
      if kind == .flag, lexer.peekByte() == UInt8(ascii: "(") {
        try next()
        _ = try expect("-", "short flag")
        let s = try next()
        guard case .word(let sn) = s.kind, sn.count == 1 else {
          throw ShellError.unexpected(describe(s), expected: "a one-letter short flag", at: s.span)
        }
        p.short = sn.first
        _ = try expect(")", "short flag")
      }
      if kind == .positional, lexer.peekByte() == UInt8(ascii: "?") {
        try next()
        p.optional = true
      }
      if try peek().isPunct(":") {
        try next()
        let tt = try next()
        guard case .word(let tn) = tt.kind else { throw ShellError.unexpected(describe(tt), expected: "a type name", at: tt.span) }
        p.type = TypeAnnotation(name: tn, span: tt.span)
      }
      if try peek().isPunct("=") {
        try next()
        p.defaultValue = try parseUnary()
      }
      p.doc = trailingComment()
      params.append(p)
    }
    return params
  }

  /// A `# comment` on the rest of the current line (parameter documentation).
  private func trailingComment() -> String {
    let bytes = lexer.source.bytes
    var i = lexer.position
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x2C { i += 1 }
    guard i < bytes.count, bytes[i] == 0x23 else { return "" }
    var e = i
    while e < bytes.count, bytes[e] != 0x0A { e += 1 }
    return String(decoding: bytes[(i + 1)..<e], as: UTF8.self).trimmingSpaces()
  }

  mutating func parseBlock() throws -> Block {
    lexer.skipTrivia()
    let open = try peek()
    guard open.isPunct("{") else {
      throw ShellError.unexpected(describe(open), expected: "a block `{ ... }`", at: open.span, partial: open.kind == .eof)
    }
    try enter(open.span)
    defer { depth -= 1 }
    try next()
    nesting.append(UInt8(ascii: "{"))
    let statements = parseStatements(closer: "}")
    nesting.removeLast()
    let close = try lexer.peek(.command)
    guard close.isPunct("}") else {
      throw ShellError.unterminated("block", at: open.span, closer: "`}`")
    }
    try lexer.next(.command)
    return Block(statements: statements, span: open.span.to(close.span))
  }

  // MARK: - Pipelines

  /// A pipeline and its `&& b` / `|| c` chain (left to right, equal precedence, as in bash).
  mutating func parsePipeline() throws -> Pipeline {
    var p = try parseSimplePipeline()
    while true {
      let t = try peek(.command)
      let op: ChainLink.Op
      if t.isWord("&&") { op = .and } else if t.isPunct("||") { op = .or } else { break }
      try next(.command)
      lexer.skipTrivia(newlines: true)
      let n = try lexer.peek(.command)
      if n.kind == .eof || n.kind == .terminator {
        throw ShellError.unexpected(describe(n), expected: "a command after `\(op.rawValue)`", at: t.span, partial: n.kind == .eof)
      }
      let rhs = try parseSimplePipeline()
      p.chain.append(ChainLink(op: op, opSpan: t.span, pipeline: rhs))
      p.span = p.span.to(rhs.span)
    }
    return p
  }

  private mutating func parseSimplePipeline() throws -> Pipeline {
    var elements = [try parseElement()]
    while true {
      let t = try peek(.command)
      guard t.isPunct("|") else { break }
      try next(.command)
      lexer.skipTrivia(newlines: true)
      let n = try lexer.peek(.command)
      if n.kind == .eof {
        throw ShellError.unexpected("end of input", expected: "a command after `|`", at: t.span, partial: true)
      }
      elements.append(try parseElement())
    }
    // Output to a file ends a pipeline; input from a file starts one.
    for (i, e) in elements.enumerated() {
      let redirections: [Redirection]
      switch e {
      case .call(let c): redirections = c.redirections
      case .external(let x): redirections = x.redirections
      case .expression: continue
      }
      for r in redirections {
        // `2>&1 > f | cmd` (bash's order): the pipe carries standard error.
        if i < elements.count - 1, r.kind.writesStdout, !redirections.stderrToOldStdout {
          throw ShellError(
            .parseRedirection, "`\(r.kind.rawValue)` sends the output to a file, so it must end the pipeline", at: r.span,
            help: "move it after the last command, or use `| save FILE`")
        }
        if i > 0, r.kind == .stdin {
          throw ShellError(
            .parseRedirection, "`<` gives the first command its input; this command's input is the pipe", at: r.span)
        }
      }
    }
    return Pipeline(elements: elements, span: elements[0].span.to(elements[elements.count - 1].span))
  }

  private static let expressionKeywords: Set<String> = ["if", "try", "match", "not", "true", "false", "null"]

  private mutating func parseElement() throws -> PipelineElement {
    let t = try peek(.command)
    // `-$n`, `-(…)`, `- 2s`, `!x`, `!(…)`: operators start an expression, not a command.
    if case .word(let w) = t.kind, let f = w.utf8.first, f == UInt8(ascii: "!") || f == UInt8(ascii: "-") {
      let second = w.utf8.dropFirst().first
      if f == UInt8(ascii: "!") || second == nil || !(isAlpha(second!) || second == UInt8(ascii: "-")) {
        return .expression(try parseExpression())
      }
    }
    if case .word(let w) = t.kind, let e = Parser.shellOperatorError(w, t.span) { throw e }
    if case .word(let w) = t.kind, Parser.redirection(w) != nil {
      throw ShellError.unexpected("redirection `\(w)`", expected: "a command before it", at: t.span)
    }
    if t.isPunct("||") { throw ShellError.unexpected("`||`", expected: "a command before it", at: t.span) }
    switch t.kind {
    case .word(let w) where !Parser.expressionKeywords.contains(w) && !Parser.startsLikeNumber(w):
      return try parseCall()
    case .external(let name):
      try next(.command)
      let (args, redirections) = try parseArguments(condition: false)
      let end = redirections.last.map { $0.target?.span ?? $0.span } ?? args.last?.span ?? t.span
      return .external(
        ExternalNode(
          name: name, nameSpan: t.span, arguments: args, span: t.span.to(end), forced: true, redirections: redirections))
    case .terminator, .eof:
      throw ShellError.unexpected(describe(t), expected: "a command or expression", at: t.span, partial: t.kind == .eof)
    case .flag, .endOfFlags:
      throw ShellError.unexpected(describe(t), expected: "a command or expression", at: t.span)
    default:
      let e = try parseExpression()
      try rejectClosureCallSyntax(e)
      return .expression(e)
    }
  }

  /// `$f 2` (a variable followed by arguments) reads as calling the closure in `$f`, which
  /// xcsh writes `do $f 2`: say so instead of "unexpected number".
  private func rejectClosureCallSyntax(_ e: Expr) throws {
    switch e.kind {
    case .variable, .path: break
    default: return
    }
    let n = try peek(.command)
    switch n.kind {
    case .terminator, .eof, .punct: return
    case .word(let w) where w == "&&" || Parser.precedence(n) != nil: return
    default: break
    }
    throw ShellError(
      .parseClosureCall, "unexpected \(describe(n)) after `\(lexer.source.text(of: e.span))`", at: n.span,
      help: "to call a closure stored in a variable, write `do \(lexer.source.text(of: e.span)) ARGS`")
  }

  /// `1..10` or `3.5x` at the start of a pipeline is an expression (or a bad literal), not a command.
  static func startsLikeNumber(_ w: String) -> Bool {
    guard let f = w.utf8.first else { return false }
    return isDigit(f) || (f == UInt8(ascii: "-") && w.utf8.count > 1 && isDigit(Array(w.utf8)[1]))
  }

  private mutating func parseCall() throws -> PipelineElement {
    let head = try next(.command)
    guard case .word(var name) = head.kind else { fatalError("parseCall on a non-word") }
    var nameSpan = head.span
    // Greedily join sub-command words: `str upcase`, `image list`, `error make`.
    while true {
      let save = lexer.position
      guard let n = try? lexer.next(.command), case .word(let sub) = n.kind, n.spaceBefore,
        context.isCommand(name + " " + sub) || (modules.contains(name) && !name.contains(" "))
      else {
        lexer.position = save
        break
      }
      name += " " + sub
      nameSpan = nameSpan.to(n.span)
    }
    // Whether the word is a built-in, a function or a host program is decided when it runs.
    let (args, redirections) = try parseArguments(condition: context.takesCondition(name))
    let end = redirections.last.map { $0.target?.span ?? $0.span } ?? args.last?.span ?? nameSpan
    return .call(
      CallNode(name: name, nameSpan: nameSpan, arguments: args, span: nameSpan.to(end), redirections: redirections))
  }

  /// `> FILE`, `2>/dev/null`, `2>&1`, …: the operator and its file (glued or the next word).
  private mutating func parseRedirection(_ t: Token, _ kind: Redirection.Kind, glued file: String) throws -> Redirection {
    try next(.command)
    let written = lexer.source.text(of: t.span)
    let opSpan = Span(source: t.span.source, start: Int(t.span.start), end: Int(t.span.end) - file.utf8.count)
    if kind == .stderrToStdout { return Redirection(kind: kind, target: nil, span: t.span) }
    if !file.isEmpty {
      let fileSpan = Span(source: t.span.source, start: Int(opSpan.end), end: Int(t.span.end))
      return Redirection(kind: kind, target: Expr(.literal(.string(file, fileSpan)), fileSpan), span: opSpan)
    }
    let n = try peek(.command)
    switch n.kind {
    case .terminator, .eof, .punct("|"), .punct("||"), .punct(")"), .punct("}"), .punct("]"), .word("&&"):
      throw ShellError.unexpected(describe(n), expected: "a file name after `\(written)`", at: n.span, partial: n.kind == .eof)
    default:
      return Redirection(kind: kind, target: try parseArgumentAtom(.command), span: opSpan)
    }
  }

  private mutating func parseArguments(condition: Bool) throws -> ([Argument], [Redirection]) {
    var args: [Argument] = []
    var redirections: [Redirection] = []
    var flagsEnded = false
    if condition {
      let t = try peek(.command)
      if !(t.isPunct("{") || t.kind == .terminator || t.kind == .eof || t.isPunct("|")) {
        let cond = try parseExpression(condition: true)
        args.append(.positional(cond))
      }
    }
    while true {
      let t = try peek(.command)
      switch t.kind {
      case .terminator, .eof: return (args, redirections)
      case .punct(let p) where p == "|" || p == "||" || p == ")" || p == "]" || p == "}": return (args, redirections)
      case .word("&&"): return (args, redirections)
      case .word(let w) where Parser.shellOperatorError(w, t.span) != nil:
        throw Parser.shellOperatorError(w, t.span)!
      case .word(let w) where Parser.redirection(w) != nil:
        let (kind, file) = Parser.redirection(w)!
        redirections.append(try parseRedirection(t, kind, glued: file))
      case .string where Parser.redirection(lexer.source.text(of: t.span)) != nil:
        // `>$file`: an interpolated word that starts with an operator.
        let op = lexer.source.text(of: t.span).prefix { ">&<12".contains($0) }
        throw ShellError(
          .parseRedirection, "put a space between `\(op)` and its file", at: t.span,
          help: "write `\(op) \(lexer.source.text(of: t.span).dropFirst(op.count))`")
      case .punct("..."):
        try next(.command)
        let value = try parseArgumentAtom(.command)
        args.append(.spread(value, t.span))
      case .flag(let name, let short, let inline) where !flagsEnded:
        try next(.command)
        var value: Expr? = nil
        if inline { value = try parseArgumentAtom(.command) }
        args.append(.flag(name: name, short: short, span: t.span, value: value))
      case .flag where flagsEnded, .endOfFlags where flagsEnded:
        try next(.command)
        args.append(.positional(Expr(.literal(.string(lexer.source.text(of: t.span), t.span)), t.span)))
      case .endOfFlags:
        try next(.command)
        flagsEnded = true
        args.append(.endOfFlags(t.span))
      default:
        args.append(.positional(try parseArgumentAtom(.command)))
      }
    }
  }

  // MARK: - Arguments (shell words)

  /// One argument in command mode: a literal, a bare word, a variable path, `( )`, `[ ]` or `{ }`.
  mutating func parseArgumentAtom(_ mode: Lexer.Mode) throws -> Expr {
    let t = try peek(mode)
    switch t.kind {
    case .word(let w):
      try next(mode)
      return Expr(.literal(Parser.classifyWord(w, t.span)), t.span).rangeIfAny(w, t.span)
    case .external(let n):
      try next(mode)
      return Expr(.literal(.string("^" + n, t.span)), t.span)
    case .flag, .endOfFlags:
      try next(mode)
      return Expr(.literal(.string(lexer.source.text(of: t.span), t.span)), t.span)
    case .string(let parts) where lexer.source.text(of: t.span).first != "\"":
      // A bare `$a..$b`, `1..$n`, `$i..<10`, `$a..`: a range, as `1..10` is (not its text).
      if let range = try compoundRange(parts, t.span) {
        try next(mode)
        return range
      }
      return try parsePrimary(condition: false, mode: mode)
    default:
      return try parsePrimary(condition: false, mode: mode)
    }
  }

  /// A bare compound word that is a range of variables, `$(…)` or ints: one `..` or `..<`
  /// between at most one value on each side. Nil for any other word (`$f..bak` stays text).
  private mutating func compoundRange(_ parts: [StringPart], _ span: Span) throws -> Expr? {
    let texts = parts.indices.filter { if case .text = parts[$0] { true } else { false } }
    guard texts.count == 1, case .text(let text) = parts[texts[0]], let dots = text.range(of: "..") else { return nil }
    let i = texts[0]
    let before = parts[..<i]
    let after = parts[(i + 1)...]
    var rest = text[dots.upperBound...]
    let inclusive = !rest.hasPrefix("<")
    if !inclusive { rest = rest.dropFirst() }
    let head = text[..<dots.lowerBound]
    guard before.count <= 1, after.count <= 1 else { return nil }
    // Each side is the value next to the dots, or an int written in the text, or nothing (`$a..`).
    let from: Expr
    if let part = before.first {
      guard head.isEmpty else { return nil }
      from = try operand(part, span)
    } else {
      guard let n = Int64(head) else { return nil }
      from = Expr(.literal(.int(n, span)), span)
    }
    var to: Expr? = nil
    if let part = after.first {
      guard rest.isEmpty else { return nil }
      to = try operand(part, span)
    } else if !rest.isEmpty {
      guard let n = Int64(rest) else { return nil }
      to = Expr(.literal(.int(n, span)), span)
    } else if !inclusive {
      return nil  // `$a..<` bounds nothing
    }
    guard before.first != nil || after.first != nil else { return nil }
    return Expr(.range(from: from, to: to, inclusive: inclusive), span)
  }

  /// One interpolated part of a compound word as an expression.
  private mutating func operand(_ part: StringPart, _ span: Span) throws -> Expr {
    switch part {
    case .text(let s): return Expr(.literal(.string(s, span)), span)
    case .variable, .subexpression:
      guard case .interpolated(let parts) = try interpolation([part], span).kind, case .expr(let e)? = parts.first else {
        return Expr(.literal(.string("", span)), span)
      }
      return e
    }
  }

  /// A bare word's value: `true`, `false`, `null`, or the word as a string.
  static func classifyWord(_ w: String, _ span: Span) -> Value {
    switch w {
    case "true": .bool(true, span)
    case "false": .bool(false, span)
    case "null": Value(.null, span)
    default: .string(w, span)
    }
  }

  // MARK: - Expressions

  /// Parses an expression; in a row condition a bare name on the left of a comparison is a field.
  mutating func parseExpression(condition: Bool = false) throws -> Expr {
    try enter(try peek().span)
    defer { depth -= 1 }
    return try parseBinary(minPrecedence: 1, condition: condition)
  }

  private static func precedence(_ t: Token) -> (String, Int)? {
    switch t.kind {
    case .punct(let p):
      switch p {
      case "||": return ("or", 1)
      case "&&": return ("and", 2)
      case "==", "!=", "<", "<=", ">", ">=", "=~", "!~": return (p, 4)
      case "..", "..<": return (p, 5)
      case "+", "-", "++": return (p, 6)
      case "*", "/", "//", "%": return (p, 7)
      case "**": return (p, 8)
      default: return nil
      }
    case .word(let w):
      switch w {
      case "or", "xor": return (w, 1)
      case "and": return (w, 2)
      case "in", "not-in", "starts-with", "ends-with", "has", "not-has": return (w, 4)
      case "mod": return ("%", 7)
      default: return nil
      }
    default: return nil
    }
  }

  private mutating func parseBinary(minPrecedence: Int, condition: Bool) throws -> Expr {
    var lhs = try parseUnary(condition: condition)
    while true {
      let t = try peek()
      guard let (op, prec) = Parser.precedence(t), prec >= minPrecedence else { break }
      try next()
      if op == ".." || op == "..<" {
        // Open-ended `1..` when nothing follows.
        let n = try peek()
        var rhs: Expr? = nil
        if !(n.kind == .eof || n.kind == .terminator || n.isPunct(")") || n.isPunct("]") || n.isPunct("}")
          || n.isPunct("{") || n.isPunct("|") || n.isPunct(",") || n.isPunct("=>"))
        {
          rhs = try parseBinary(minPrecedence: prec + 1, condition: false).asValue()
        }
        lhs = Expr(.range(from: lhs.asValue(), to: rhs, inclusive: op == ".."), lhs.span.to(rhs?.span ?? t.span))
        continue
      }
      lexer.skipTrivia(newlines: newlinesAreSpace)
      let rhs = try parseBinary(minPrecedence: prec + 1, condition: condition && prec < 4)
      lhs = Expr(.binary(op: BinaryOp(rawValue: op)!, opSpan: t.span, lhs: lhs, rhs: prec == 4 ? rhs.asValue() : rhs), lhs.span.to(rhs.span))
    }
    return lhs
  }

  mutating func parseUnary(condition: Bool = false) throws -> Expr {
    let t = try peek()
    if t.isPunct("-") {
      try next()
      let operand = try parseUnary(condition: false)
      if case .literal(let v) = operand.kind {
        switch v.kind {
        case .int(let i): return Expr(.literal(.int(-i, t.span.to(operand.span))), t.span.to(operand.span))
        case .float(let d): return Expr(.literal(.float(-d, t.span.to(operand.span))), t.span.to(operand.span))
        case .duration(let d): return Expr(.literal(Value(.duration(-d), t.span.to(operand.span))), t.span.to(operand.span))
        default: break
        }
      }
      return Expr(.unary(op: "-", operand: operand), t.span.to(operand.span))
    }
    if t.isWord("not") || t.isPunct("!") {
      try next()
      let operand = try parseBinary(minPrecedence: 3, condition: condition)
      return Expr(.unary(op: "not", operand: operand), t.span.to(operand.span))
    }
    return try parsePrimary(condition: condition, mode: .expression)
  }

  private mutating func parsePrimary(condition: Bool, mode: Lexer.Mode) throws -> Expr {
    let t = try peek(mode)
    var expr: Expr
    switch t.kind {
    case .int(let i): try next(mode); return Expr(.literal(.int(i, t.span)), t.span)
    case .float(let d): try next(mode); return Expr(.literal(.float(d, t.span)), t.span)
    case .duration(let d): try next(mode); return Expr(.literal(Value(.duration(d), t.span)), t.span)
    case .size(let s): try next(mode); return Expr(.literal(Value(.size(s), t.span)), t.span)
    case .rawString(let s): try next(mode); return Expr(.literal(.string(s, t.span)), t.span)
    case .string(let parts):
      try next(mode)
      return try interpolation(parts, t.span)
    case .variable(let name):
      try next(mode)
      expr = Expr(.variable(name), t.span)
    case .punct("("), .punct("$("):
      try next(mode)
      try enter(t.span)
      nesting.append(UInt8(ascii: "("))
      let p: Pipeline
      do {
        lexer.skipTrivia(newlines: true)
        if try lexer.peek(.command).isPunct(")") {
          nesting.removeLast()
          depth -= 1
          try next(mode)
          return Expr(.literal(Value(.null, t.span)), t.span)
        }
        p = try parsePipeline()
      } catch {
        nesting.removeLast()
        depth -= 1
        throw error
      }
      let close = try peek(.command)
      nesting.removeLast()
      depth -= 1
      guard close.isPunct(")") else {
        if close.kind == .eof { throw ShellError.unterminated("parenthesis", at: t.span, closer: "`)`") }
        throw ShellError.unexpected(describe(close), expected: "`)`", at: close.span)
      }
      try next(.command)
      expr = Expr(.subexpression(p), t.span.to(close.span))
    case .punct("["):
      expr = try parseList()
    case .punct("{"):
      expr = try parseBraced()
    case .word(let w):
      switch w {
      case "if": return try parseIf()
      case "try": return try parseTry()
      case "match": return try parseMatch()
      case "true", "false", "null":
        try next(mode)
        return Expr(.literal(Parser.classifyWord(w, t.span)), t.span)
      default:
        try next(mode)
        if condition {
          expr = Expr(.field(w), t.span)
        } else {
          return Expr(.literal(.string(w, t.span)), t.span)
        }
      }
    case .eof:
      throw ShellError.unexpected("end of input", expected: "an expression", at: t.span, partial: true)
    default:
      throw ShellError.unexpected(describe(t), expected: "an expression", at: t.span)
    }
    // Cell path: `.name`, `.0`, with `?` for optional; only when glued to what precedes.
    var members: [PathMember] = []
    while lexer.peekByte() == UInt8(ascii: "."), let m = parsePathMember() { members.append(m) }
    if !members.isEmpty { expr = Expr(.path(base: expr, members: members), expr.span.to(members.last!.span)) }
    return expr
  }

  /// Parses `.member` or `.member?` at the current byte; nil (position unchanged) if none follows.
  private mutating func parsePathMember() -> PathMember? {
    let save = lexer.position
    lexer.position += 1
    guard let t = lexer.nextPathMember() else {
      lexer.position = save
      return nil
    }
    var optional = false
    var sp = t.span
    if lexer.peekByte() == UInt8(ascii: "?") {
      lexer.position += 1
      optional = true
      sp = Span(source: sp.source, start: Int(sp.start), end: Int(sp.end) + 1)
    }
    switch t.kind {
    case .int(let i): return .index(Int(i), sp, optional: optional)
    case .word(let w): return .name(w, sp, optional: optional)
    default: lexer.position = save; return nil
    }
  }

  private mutating func interpolation(_ parts: [StringPart], _ span: Span) throws -> Expr {
    if parts.isEmpty { return Expr(.literal(.string("", span)), span) }
    if parts.count == 1, case .text(let s) = parts[0] { return Expr(.literal(.string(s, span)), span) }
    var out: [InterpolationPart] = []
    for part in parts {
      switch part {
      case .text(let s): out.append(.text(s))
      case .variable(let s, let e):
        var sub = Parser(source: lexer.source, context: context, start: s, end: e)
        sub.depth = depth
        out.append(.expr(try sub.parsePrimary(condition: false, mode: .expression)))
      case .subexpression(let s, let e):
        var sub = Parser(source: lexer.source, context: context, start: s, end: e)
        sub.depth = depth + 1
        sub.nesting = [UInt8(ascii: "(")]
        let p = try sub.parsePipeline()
        let rest = try sub.peek(.command)
        guard rest.kind == .eof else { throw ShellError.unexpected(sub.describe(rest), expected: "`)`", at: rest.span) }
        out.append(.expr(Expr(.subexpression(p), Span(source: span.source, start: s - 2, end: e + 1))))
      }
    }
    return Expr(.interpolated(out), span)
  }

  private mutating func parseList() throws -> Expr {
    let open = try next()
    try enter(open.span)
    defer { depth -= 1 }
    nesting.append(UInt8(ascii: "["))
    defer { nesting.removeLast() }
    var items: [Expr] = []
    while true {
      let t = try peek(.listItem)
      if t.isPunct("]") { break }
      if t.kind == .eof { throw ShellError.unterminated("list", at: open.span, closer: "`]`") }
      if t.isPunct(",") || t.kind == .terminator { try next(.listItem); continue }
      if t.isPunct("...") {
        try next(.listItem)
        let value = try parseArgumentAtom(.listItem)
        items.append(Expr(.spread(value), t.span.to(value.span)))
        continue
      }
      items.append(try parseArgumentAtom(.listItem))
    }
    let close = try next(.listItem)
    return Expr(.list(items), open.span.to(close.span))
  }

  /// `{` starts a record (`{a: 1}`, `{}`), a closure (`{|x| ...}`) or a block (`{ ... }`).
  private mutating func parseBraced() throws -> Expr {
    let save = lexer.position
    let open = try next()
    lexer.skipTrivia(newlines: true)
    let first = try lexer.peek(.expression)
    if first.isPunct("}") {
      try lexer.next(.expression)
      return Expr(.record([]), open.span.to(first.span))
    }
    if first.isPunct("|") || first.isPunct("||") {
      var params: [ParameterDecl] = []
      if first.isPunct("|") {
        params = try parseParameters(closer: "|")
      } else {
        try lexer.next(.expression)
      }
      let body = try parseBlockBody(open: open)
      let decl = ClosureDecl(parameters: params, body: body, span: open.span.to(body.span))
      return Expr(.closure(decl), decl.span)
    }
    // A key followed by `:` makes a record.
    var probe = lexer
    if let k = try? probe.next(.expression), (k.isWord || isStringToken(k)), let c = try? probe.next(.expression), c.isPunct(":") {
      return try parseRecord(open: open)
    }
    lexer.position = save
    let block = try parseBlock()
    let decl = ClosureDecl(parameters: [], body: block, span: block.span)
    return Expr(.closure(decl), block.span)
  }

  private func isStringToken(_ t: Token) -> Bool {
    switch t.kind {
    case .string, .rawString, .int: true
    default: false
    }
  }

  /// The statements of a closure after `{|params|`, up to its `}`.
  private mutating func parseBlockBody(open: Token) throws -> Block {
    try enter(open.span)
    defer { depth -= 1 }
    nesting.append(UInt8(ascii: "{"))
    let errorCount = errors.count
    let statements = parseStatements(closer: "}")
    nesting.removeLast()
    if errors.count > errorCount {
      let e = errors.removeLast()
      throw e
    }
    let close = try lexer.peek(.command)
    guard close.isPunct("}") else { throw ShellError.unterminated("closure", at: open.span, closer: "`}`") }
    try lexer.next(.command)
    return Block(statements: statements, span: open.span.to(close.span))
  }

  private mutating func parseRecord(open: Token) throws -> Expr {
    try enter(open.span)
    defer { depth -= 1 }
    nesting.append(UInt8(ascii: "["))  // newlines separate fields like commas
    defer { nesting.removeLast() }
    var fields: [(key: Expr, value: Expr)] = []
    while true {
      let t = try peek()
      if t.isPunct("}") { break }
      if t.kind == .eof { throw ShellError.unterminated("record", at: open.span, closer: "`}`") }
      if t.isPunct(",") { try next(); continue }
      let key: Expr
      switch t.kind {
      case .word(let w): try next(); key = Expr(.literal(.string(w, t.span)), t.span)
      case .int(let i): try next(); key = Expr(.literal(.string(String(i), t.span)), t.span)
      case .string, .rawString, .variable, .punct("("): key = try parsePrimary(condition: false, mode: .expression)
      default: throw ShellError.unexpected(describe(t), expected: "a field name", at: t.span)
      }
      let colon = try peek()
      guard colon.isPunct(":") else {
        throw ShellError.unexpected(describe(colon), expected: "`:` after the field name", at: colon.span)
      }
      try next()
      let value = try parseExpression()
      fields.append((key, value))
    }
    let close = try next()
    return Expr(.record(fields), open.span.to(close.span))
  }

  private mutating func parseIf() throws -> Expr {
    let kw = try next()
    var branches: [(condition: Expr, body: Block)] = []
    let cond = try parseExpression()
    let body = try parseBlock()
    branches.append((cond, body))
    var otherwise: Block? = nil
    var end = body.span
    while true {
      let save = lexer.position
      lexer.skipTrivia(newlines: true)
      let t = try lexer.peek(.command)
      guard t.isWord("else") else {
        lexer.position = save
        break
      }
      try lexer.next(.command)
      let n = try peek(.command)
      if n.isWord("if") {
        try next(.command)
        let c = try parseExpression()
        let b = try parseBlock()
        branches.append((c, b))
        end = b.span
      } else {
        let b = try parseBlock()
        otherwise = b
        end = b.span
        break
      }
    }
    return Expr(.ifElse(branches: branches, otherwise: otherwise), kw.span.to(end))
  }

  /// `match $x { 1 => { … }, 2..5 | 10 => "few", _ if $x > 100 => { … }, _ => { … } }`.
  /// Arms are separated by newlines or commas; a body is a block or one expression.
  private mutating func parseMatch() throws -> Expr {
    let kw = try next()
    let subject = try parseExpression()
    let open = try peek()
    guard open.isPunct("{") else {
      throw ShellError.unexpected(describe(open), expected: "`{` and the arms of `match`", at: open.span, partial: open.kind == .eof)
    }
    try next()
    try enter(open.span)
    defer { depth -= 1 }
    nesting.append(UInt8(ascii: "{"))
    defer { nesting.removeLast() }
    var arms: [MatchArm] = []
    do {
      arms = try parseMatchArms(open: open)
    } catch {
      // Resume after the `match`'s own `}` so its arms are not read as statements.
      skipPast(closer: "}")
      throw error
    }
    let close = try lexer.next(.expression)
    return Expr(.match(subject: subject, arms: arms), kw.span.to(close.span))
  }

  /// Skips tokens up to and including the `closer` that closes the current bracket.
  private mutating func skipPast(closer: String) {
    var level = 0
    while let t = try? lexer.next(.command), t.kind != .eof {
      if case .punct(let p) = t.kind {
        if p == "(" || p == "[" || p == "{" || p == "$(" { level += 1 }
        if p == ")" || p == "]" || p == "}" {
          if level == 0 && p == closer { return }
          level -= 1
        }
      }
    }
  }

  private mutating func parseMatchArms(open: Token) throws -> [MatchArm] {
    var arms: [MatchArm] = []
    while true {
      lexer.skipTrivia(newlines: true)
      let t = try lexer.peek(.expression)
      if t.isPunct("}") { break }
      if t.isPunct(",") || t.kind == .terminator { try lexer.next(.expression); continue }
      if t.kind == .eof { throw ShellError.unterminated("`match`", at: open.span, closer: "`}`") }
      var patterns: [MatchArm.Pattern] = []
      repeat {
        if !patterns.isEmpty { try next() }  // the `|`
        let p = try peek()
        if p.isWord("_") {
          try next()
          patterns.append(.wildcard(p.span))
        } else {
          let e = try parseExpression()
          do {
            try Parser.requireConstant(e)
          } catch {
            throw ShellError(
              .parseMatchPattern, "a `match` pattern must be a constant, a range or `_`", at: e.span,
              help: "compare with a guard: `_ if $x == $y => { … }`")
          }
          patterns.append(.value(e))
        }
      } while try peek().isPunct("|")
      var guardExpr: Expr? = nil
      if try peek().isWord("if") {
        try next()
        guardExpr = try parseExpression()
      }
      let arrow = try peek()
      guard arrow.isPunct("=>") else {
        throw ShellError.unexpected(describe(arrow), expected: "`=>` after the pattern", at: arrow.span, partial: arrow.kind == .eof)
      }
      try next()
      lexer.skipTrivia(newlines: true)
      let body: Block
      if try peek().isPunct("{") {
        // `{` opens a block here, even if it starts like a record (`{a: 1}` is written `({a: 1})`).
        body = try parseBlock()
      } else {
        let e = try parseExpression()
        let statement = Statement(kind: .pipeline(Pipeline(elements: [.expression(e)], span: e.span)), span: e.span)
        body = Block(statements: [statement], span: e.span)
      }
      arms.append(MatchArm(patterns: patterns, guardExpr: guardExpr, body: body))
    }
    return arms
  }

  private mutating func parseTry() throws -> Expr {
    let kw = try next()
    let body = try parseBlock()
    let save = lexer.position
    lexer.skipTrivia(newlines: true)
    let t = try lexer.peek(.command)
    guard t.isWord("catch") else {
      lexer.position = save
      return Expr(.tryCatch(body: body, name: nil, handler: nil), kw.span.to(body.span))
    }
    try lexer.next(.command)
    var name: String? = nil
    let n = try peek()
    if case .word(let w) = n.kind {
      try next()
      name = w
    } else if case .variable(let v) = n.kind {
      try next()
      name = v
    }
    let handler: Block
    if name == nil, try peek().isPunct("{") {
      // `catch {|e| ... }` names the error as a closure parameter.
      let braced = try parseBraced()
      guard case .closure(let decl) = braced.kind else {
        throw ShellError.unexpected("record", expected: "a catch block", at: braced.span)
      }
      name = decl.parameters.first?.name
      handler = decl.body
    } else {
      handler = try parseBlock()
    }
    return Expr(.tryCatch(body: body, name: name, handler: handler), kw.span.to(handler.span))
  }
}

extension Expr {
  /// A bare field on the right of a comparison is a string: `status == running`.
  func asValue() -> Expr {
    if case .field(let name) = kind { return Expr(.literal(.string(name, span)), span) }
    return self
  }

  /// A bare word like `1..10` or `0..<5` in a command argument is a range.
  func rangeIfAny(_ word: String, _ span: Span) -> Expr {
    guard word.contains(".."), let r = word.range(of: "..") else { return self }
    var rest = word[r.upperBound...]
    let inclusive = !rest.hasPrefix("<")
    if !inclusive { rest = rest.dropFirst() }
    guard let a = Int64(word[..<r.lowerBound]) else { return self }
    let b: Int64? = rest.isEmpty ? nil : Int64(rest)
    if !rest.isEmpty && b == nil { return self }
    return Expr(.literal(Value(.range(RangeValue(start: a, end: b, inclusive: inclusive)), span)), span)
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
    return String(s)
  }
}
