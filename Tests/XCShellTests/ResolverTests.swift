import Testing

@testable import XCShell

/// The resolver gives a slot to every name it can know before running, and leaves the dynamic
/// ones to a search by name (issue 14). Running checks each address in debug builds; these
/// tests check that addresses are given at all, and withheld where they must be.
@Suite struct ResolverTests {
  /// Each `$name` (and assignment target, written `=name`) in source order with its address.
  private func addresses(_ text: String, globals: [String] = ["args"]) throws -> [(String, VarAddress?)] {
    let block = try Parser.parse(Source(name: "t.xcs", text: text), context: Builtins.registry())
    _ = Resolver.resolve(block, top: .globals(globals), registry: Builtins.registry(), environment: [:])
    var out: [(String, VarAddress?)] = []
    func expr(_ e: Expr) {
      switch e.kind {
      case .variable(let n): out.append((n, e.address))
      case .binary(_, _, let l, let r):
        expr(l)
        expr(r)
      case .path(let b, _): expr(b)
      case .list(let items): items.forEach(expr)
      case .closure(let d): blockOf(d.body)
      case .subexpression(let p): pipeline(p)
      case .ifElse(let branches, let otherwise):
        for (c, b) in branches {
          expr(c)
          blockOf(b)
        }
        if let otherwise { blockOf(otherwise) }
      case .block(let b): blockOf(b)
      default: break
      }
    }
    func pipeline(_ p: Pipeline) {
      for el in p.elements {
        switch el {
        case .expression(let e): expr(e)
        case .call(let c):
          for case .positional(let e) in c.arguments { expr(e) }
        case .external: break
        }
      }
    }
    func blockOf(_ b: Block) {
      for s in b.statements {
        switch s.kind {
        case .letDecl(_, _, _, _, let v): pipeline(v)
        case .pipeline(let p): pipeline(p)
        case .assign(let t, _, let v):
          pipeline(v)
          out.append(("=" + t.name, t.site.address))
        case .fnDecl(let d): blockOf(d.body)
        case .forLoop(_, _, _, let it, let body):
          expr(it)
          blockOf(body)
        case .whileLoop(let c, let body):
          expr(c)
          blockOf(body)
        case .deferBlock(let b): blockOf(b)
        default: break
        }
      }
    }
    blockOf(block)
    return out
  }

  private func at(_ depth: Int, _ index: Int) -> VarAddress { VarAddress(depth: depth, index: index) }

  @Test func localsParametersAndLoopVariablesGetSlots() throws {
    let a = try addresses(
      """
      let x = 1
      var s = 0
      for i in 0..<3 { s += $i + $x }
      fn f [n: int, --dry-run] { $n + $dry_run + $in }
      [1] | each {|v| $v + $x }
      """)
    #expect(a.map(\.0) == ["i", "x", "=s", "n", "dry_run", "in", "v", "x"])
    #expect(a.map(\.1) == [at(0, 0), at(1, 1), at(1, 2), at(0, 0), at(0, 1), at(0, 2), at(0, 0), at(1, 1)])
  }

  @Test func replLinesStartFromTheSessionsGlobals() throws {
    let a = try addresses("$later + $args", globals: ["args", "x", "later"])
    #expect(a.map(\.1) == [at(0, 2), at(0, 0)])
  }

  @Test func dynamicNamesAreLeftToASearchByName() throws {
    let a = try addresses(
      """
      let x = 1
      fn f [] { $x }
      if true { defer { print $x } }
      [1] | $in + $x
      [1] | where $it > $x
      $env
      let y = 2
      source lib.xcs
      $y
      """)
    // From a function body, a defer, after `|`, in a row condition, `$env`, and after `source`.
    #expect(a.map(\.0) == ["x", "x", "in", "x", "it", "x", "env", "y"])
    #expect(a.allSatisfy { $0.1 == nil })
  }

  @Test func checkGetsTheResolversNameErrors() throws {
    let block = try Parser.parse(
      Source(name: "t.xcs", text: "let k = 1\nk = 2\nprint $nope\nsource x.xcs\nprint $maybe"), context: Builtins.registry())
    let errors = Resolver.resolve(block, top: .globals(["args"]), registry: Builtins.registry(), environment: [:])
    #expect(errors.map(\.code) == [.nameImmutable, .nameUnknownVariable])
  }
}
