import Testing

@testable import XCShell

/// Parser edge cases: statement forms, continuation, recovery and partial input.
@Suite struct ParserTests {
  let context = Builtins.registry()

  func parse(_ text: String) -> (Block, [ShellError]) {
    let source = SourceMap.shared.add(name: "<test>", text: text)
    var p = Parser(source: source, context: context)
    let b = p.parseProgram()
    return (b, p.errors)
  }

  @Test func statementsSplitOnNewlinesAndSemicolons() {
    let (b, e) = parse("let a = 1; var b = 2\nb += $a")
    #expect(e.isEmpty)
    #expect(b.statements.count == 3)
  }

  @Test func openBracketsContinueLines() {
    let (b, e) = parse("let xs = [\n  1,\n  2\n]\nlet r = {\n a: 1\n b: 2\n}\nprint (1 +\n 2)")
    #expect(e.isEmpty)
    #expect(b.statements.count == 3)
  }

  @Test func trailingPipeContinues() {
    let (b, e) = parse("[1 2] |\n  length")
    #expect(e.isEmpty)
    #expect(b.statements.count == 1)
  }

  @Test func subCommandsAreJoined() {
    let (b, _) = parse("'a' | str upcase")
    guard case .pipeline(let p) = b.statements[0].kind, case .call(let c) = p.elements[1] else {
      Issue.record("not a call")
      return
    }
    #expect(c.name == "str upcase")
  }

  /// The first argument of the first call of `text`.
  func firstArgument(_ text: String) -> Expr? {
    let (b, e) = parse(text)
    #expect(e.isEmpty, "\(e)")
    guard case .pipeline(let p)? = b.statements.first?.kind, case .call(let c) = p.elements[0],
      case .positional(let x)? = c.arguments.first
    else { return nil }
    return x
  }

  @Test func aBareRangeOfVariablesIsARange() {
    for (word, inclusive, open) in [
      ("$a..$b", true, false), ("$a..<$b", false, false), ("1..$n", true, false), ("$i..10", true, false),
      ("$a..", true, true), ("$(f)..$b", true, false),
    ] {
      guard case .range(let from, let to, let inc)? = firstArgument("print \(word)")?.kind else {
        Issue.record("\(word): not a range")
        continue
      }
      #expect(from != nil && (to == nil) == open && inc == inclusive, "\(word)")
    }
    for word in ["$f..bak", "x$a..$b", "$a..$b..$c", "$a..<", "\"$a..$b\""] {
      if case .range? = firstArgument("print \(word)")?.kind { Issue.record("\(word) is a range") }
    }
  }

  @Test func stderrGoesWhereStdoutWasAtTheTime() {
    func redirections(_ text: String) -> [Redirection] {
      let (b, _) = parse(text)
      guard case .pipeline(let p)? = b.statements.first?.kind, case .external(let x) = p.elements[0] else { return [] }
      return x.redirections
    }
    #expect(redirections("^c 2>&1 > f").stderrToOldStdout)
    #expect(!redirections("^c 2>&1 > f").stderrFollowsStdout)
    #expect(!redirections("^c > f 2>&1").stderrToOldStdout)
    #expect(redirections("^c > f 2>&1").stderrFollowsStdout)
    #expect(!redirections("^c 2>&1 > f 2> e").stderrToOldStdout)
    #expect(redirections("^c 2>&1").stderrFollowsStdout)
    #expect(!redirections("^c 2>&1 &> f").stderrToOldStdout)
  }

  @Test func whereTakesARowCondition() {
    let (b, e) = parse("ps | where status == running and cpu > 5")
    #expect(e.isEmpty)
    guard case .pipeline(let p) = b.statements[0].kind, case .call(let c) = p.elements[1],
      case .positional(let cond) = c.arguments[0], case .binary(let op, _, let lhs, _) = cond.kind
    else {
      Issue.record("shape")
      return
    }
    #expect(op == .and)
    guard case .binary(_, _, let field, let value) = lhs.kind else {
      Issue.record("lhs")
      return
    }
    if case .field(let f) = field.kind { #expect(f == "status") } else { Issue.record("field") }
    if case .literal(let v) = value.kind { #expect(v == .string("running")) } else { Issue.record("value") }
  }

  @Test func recoveryReportsEveryError() {
    let (_, e) = parse("let = 1\nprint ok\nlet x = (1 +\n")
    #expect(e.count == 2)
    #expect(e.last?.partial == true)
  }

  @Test func unclosedBlockIsPartialForTheREPL() {
    let (_, e) = parse("if true {\n print 1")
    #expect(e.count == 1)
    #expect(e[0].partial)
    #expect(e[0].message == "unterminated block")
  }

  @Test func commentsInOddPlaces() {
    let (b, e) = parse("let xs = [1, # one\n 2] # list\nfn f [a # the a\n] { $a } # done")
    #expect(e.isEmpty)
    #expect(b.statements.count == 2)
    guard case .fnDecl(let d) = b.statements[1].kind else {
      Issue.record("fn")
      return
    }
    #expect(d.parameters[0].doc == "the a")
  }

  @Test func functionSignatureForms() {
    let (b, e) = parse("fn f [a, b: int, c: string = \"x\", d?, --force(-f), --count: int = 1, ...rest] { }")
    #expect(e.isEmpty)
    guard case .fnDecl(let d) = b.statements[0].kind else { return }
    #expect(d.parameters.map(\.name) == ["a", "b", "c", "d", "force", "count", "rest"])
    #expect(d.parameters[4].short == "f")
    #expect(d.parameters[6].kind == .rest)
    #expect(d.parameters[3].optional)
  }

  @Test func deepNestingIsAnErrorNotACrash() {
    let (_, e) = parse(String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000))
    #expect(e.first?.code == "parse.depth")
  }

  @Test func docCommentAboveFunction() {
    let (b, _) = parse("# Greets someone.\n# Twice.\nfn greet [] { }")
    guard case .fnDecl(let d) = b.statements[0].kind else { return }
    #expect(d.doc == "Greets someone.\nTwice.")
  }

  @Test func chainsAndRedirectionsAttachToTheRightNodes() {
    let (b, e) = parse("^sh -c x 2>/dev/null > out.txt && print ok || print no")
    #expect(e.isEmpty)
    guard case .pipeline(let p)? = b.statements.first?.kind, case .external(let x) = p.elements[0] else {
      Issue.record("not a pipeline of an external")
      return
    }
    #expect(p.chain.map(\.op) == [.and, .or])
    #expect(x.redirections.map(\.kind) == [.stderr, .stdout])
    // The redirections are not arguments: only `-c x` reach the program.
    #expect(x.arguments.count == 2)
  }

  @Test func matchArms() {
    let (b, e) = parse("match $x { 1 | 2 => \"a\", 3..5 => { \"b\" }\n _ if $y => \"c\"\n _ => \"d\" }")
    #expect(e.isEmpty)
    guard case .pipeline(let p)? = b.statements.first?.kind, case .expression(let x) = p.elements[0],
      case .match(_, let arms) = x.kind
    else {
      Issue.record("not a match expression")
      return
    }
    #expect(arms.count == 4)
    #expect(arms[0].patterns.count == 2)
    #expect(arms[2].guardExpr != nil)
  }
}
