import Foundation
import Testing

/// The golden-case reader refuses comments it cannot read instead of dropping their checks.
@Suite struct GoldenCaseTests {
  func read(_ text: String) throws -> GoldenCase {
    let dir = NSTemporaryDirectory() + "xcsh-golden-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try text.write(toFile: dir + "/case.xcs", atomically: true, encoding: .utf8)
    return try GoldenCase(path: dir + "/case.xcs", root: dir)
  }

  @Test func wellFormedCommentsAreRead() throws {
    let c = try read("print 1 # expect: 1\n# test: env A=b\n# expect error 2:3: boom\n# expect exit: 4\n")
    #expect(c.stdout == ["1"])
    #expect(c.environment == ["A": "b"])
    #expect(c.errors.map(\.line) == [2])
    #expect(c.exit == 4)
  }

  @Test(arguments: [
    "print 1 # expect 1",  // the colon is missing
    "# expect error 3: boom",  // no column
    "# expect exit: one",
    "# test: moed=check",
    "# test: env NOEQUALS",
    "# expectstderr: x",
  ])
  func malformedCommentsAreErrors(_ line: String) throws {
    #expect(throws: GoldenCaseError.self) { try read(line + "\n") }
  }
}
