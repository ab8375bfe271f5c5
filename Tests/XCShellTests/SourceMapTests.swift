import Foundation
import Testing

@testable import XCShell

/// Each session keeps its own sources, and converting text registers none: a loop of
/// conversions must not grow memory (issue 14).
@Suite struct SourceMapTests {
  @Test func conversionsRegisterNoSource() throws {
    let shell = Shell(options: ShellOptions())
    let script = Source(
      name: "convert.xcs",
      text: """
        for i in 0..<300 {
          let d = ("5s" | into duration)
          let s = ("3KiB" | into size)
        }
        """)
    let before = shell.sources.count
    _ = try shell.evaluate(script)
    // The script itself is the one new source; its 600 conversions added nothing.
    #expect(shell.sources.count == before + 1)
    #expect(SourceMap.shared.source(script.id) == nil)
  }

  @Test func textBoundToTypedParametersRegistersNoSource() throws {
    let shell = Shell(options: ShellOptions())
    let before = shell.sources.count
    let fn = Source(name: "<fn>", text: "fn t [d: duration, s: size] { [$d $s] }")
    _ = try shell.evaluate(fn)
    let t = try #require(shell.evaluator.globals.function("t"))
    for _ in 0..<100 {
      let call = try Binder.bindText(t.signature, ["5s", "10MB"], at: .unknown, evaluator: shell.evaluator, frame: shell.evaluator.globals)
      _ = try t.run(call, .empty)
    }
    #expect(shell.sources.count == before + 1)
  }

  @Test func errorsFromTwoSessionsPointIntoTheirOwnSources() throws {
    let a = Shell(options: ShellOptions())
    let b = Shell(options: ShellOptions())
    let sa = Source(name: "a.xcs", text: "let x = 1\nlet e = try { get nope } catch e { $e.span }\n$e")
    let sb = Source(name: "b.xcs", text: "let e = try { get nope } catch e { $e.span }\n$e")
    #expect(try a.evaluate(sa).plain == "a.xcs:2:19")
    #expect(try b.evaluate(sb).plain == "b.xcs:1:19")
    #expect(a.sources.source(sb.id) == nil)
    #expect(b.sources.source(sa.id) == nil)
  }
}
