import Foundation
import Testing

@testable import XCShell

/// Every command's documented examples that state a result are run and compared.
@Suite struct ExampleTests {
  static let examples: [(String, Example)] = Builtins.all.flatMap { c in
    c.signature.examples.filter { $0.result != nil }.map { (c.signature.name, $0) }
  }

  @Test("documented example", arguments: examples.map { "\($0.0): \($0.1.code)" })
  func example(_ label: String) throws {
    let (name, ex) = Self.examples.first { "\($0.0): \($0.1.code)" == label }!
    let shell = Shell(options: ShellOptions())
    let source = SourceMap.shared.add(name: "<example \(name)>", text: ex.code)
    let value = try shell.evaluate(source)
    #expect(value.plain == ex.result!, "\(name): `\(ex.code)`")
  }

  @Test func signaturesAreWellFormed() {
    var seen = Set<String>()
    for c in Builtins.all {
      let sig = c.signature
      #expect(seen.insert(sig.name).inserted, "duplicate command \(sig.name)")
      let flags = sig.parameters.filter(\.isFlag)
      #expect(Set(flags.map(\.name)).count == flags.count, "\(sig.name): duplicate flag names")
      let shorts = flags.compactMap(\.short)
      #expect(Set(shorts).count == shorts.count, "\(sig.name): duplicate short flags")
      // No required positional after an optional one or the rest parameter.
      var optionalSeen = false
      for p in sig.parameters where !p.isFlag {
        if p.kind == .required { #expect(!optionalSeen, "\(sig.name): required `\(p.name)` after optional") }
        if p.kind != .required { optionalSeen = true }
      }
      #expect(!sig.summary.isEmpty, "\(sig.name) has no summary")
    }
  }
}

/// docs/commands.md is generated from the command table; it must not drift from the code.
@Suite struct DocsTests {
  @Test func commandReferenceIsCurrent() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let r = try XCSH.run([root.appendingPathComponent("scripts/gen-docs.xcs").path])
    let committed = try String(contentsOf: root.appendingPathComponent("docs/commands.md"), encoding: .utf8)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == committed, "docs/commands.md is stale: run `xcsh scripts/gen-docs.xcs > docs/commands.md`")
  }
}
