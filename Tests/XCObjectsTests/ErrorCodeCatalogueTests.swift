import Foundation
import Testing
import XCShell

@testable import XCObjects

/// The error codes are an interface (scripts read `$e.code`, golden cases match it), so they live
/// in two catalogues — XCShell's `ErrorCodes.swift` and XCObjects' `ObjectErrorCodes.swift` — and
/// these tests keep that so: every code is unique across both and of the form `area.name`, and no
/// call site goes back to spelling a code as a string literal.
struct ErrorCodeCatalogueTests {
  /// The codes that unwind rather than fail (`exit`, signals, `timeout`, `par-each` siblings) were
  /// named before the `area.name` rule and scripts match them as they are.
  static let controlFlow: Set<String> = ["exit", "interrupted", "cancelled", "timeout"]

  static let all = ShellError.Code.shellCatalogue + ShellError.Code.objectCatalogue

  @Test func everyCodeIsUniqueAcrossBothCatalogues() {
    var seen: [String: Int] = [:]
    for code in Self.all { seen[code.rawValue, default: 0] += 1 }
    let repeated = seen.filter { $0.value > 1 }.keys.sorted()
    #expect(repeated.isEmpty, "codes listed more than once: \(repeated)")
    #expect(Self.all.count > 100)
  }

  @Test func everyCodeIsAreaDotName() {
    let form = /[a-z]+\.[a-z]+(_[a-z]+)*/
    for code in Self.all where !Self.controlFlow.contains(code.rawValue) {
      #expect(code.rawValue.wholeMatch(of: form) != nil, "`\(code.rawValue)` is not `area.name`")
    }
    for name in Self.controlFlow {
      #expect(Self.all.contains(ShellError.Code(rawValue: name)), "control-flow code `\(name)` is not catalogued")
    }
  }

  /// A code written inline (`ShellError("x.y", …)` or `code == "x.y"`) bypasses the catalogue.
  @Test func noCallSiteSpellsACodeAsALiteral() throws {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let inline = /ShellError\(\s*"|code\s*[!=]=\s*"/
    var found: [String] = []
    for module in ["XCShell", "XCObjects", "XCEditor", "xcsh"] {
      let dir = url.path + "/Sources/" + module
      let e = FileManager.default.enumerator(atPath: dir)
      var files = 0
      while let rel = e?.nextObject() as? String {
        guard rel.hasSuffix(".swift") else { continue }
        files += 1
        let text = try String(contentsOfFile: dir + "/" + rel, encoding: .utf8)
        if text.contains(inline) { found.append(module + "/" + rel) }
      }
      #expect(files > 0, "no sources found under \(dir)")
    }
    #expect(found.isEmpty, "inline error-code literals in \(found)")
  }
}
