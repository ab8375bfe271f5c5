import Foundation
import Testing

/// Runs every script under `Cases/` with the real `xcsh` and checks its stdout, diagnostics and status.
@Suite struct GoldenTests {
  @Test("golden case", arguments: try GoldenCase.all())
  func golden(_ c: GoldenCase) throws {
    var args: [String] = []
    if c.check { args.append("--check") }
    if c.json { args.append("--json") }
    args += c.flags
    args.append(c.path)
    args += c.arguments
    var dir = (c.path as NSString).deletingLastPathComponent
    if c.tmpdir {
      dir = NSTemporaryDirectory() + "xcsh-case-" + UUID().uuidString
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    defer { if c.tmpdir { try? FileManager.default.removeItem(atPath: dir) } }
    let r = try XCSH.run(args, stdin: c.stdin, environment: c.environment, directory: dir)
    #expect(!r.timedOut, "\(c.name) did not finish in time")
    var lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    #expect(lines == c.stdout, "\(c.name): stdout differs\n--- stderr:\n\(r.stderr)")
    #expect(r.status == c.exit, "\(c.name): exit status \(r.status), expected \(c.exit)\n--- stderr:\n\(r.stderr)")
    // Every expected diagnostic: its message and its FILE:LINE:COL location.
    let stderrLines = r.stderr.split(separator: "\n").map(String.init)
    let reported = stderrLines.enumerated().filter { $0.element.hasPrefix("error: ") }
    for (i, e) in c.errors.enumerated() {
      guard i < reported.count else {
        Issue.record("\(c.name): expected error `\(e.message)` at \(e.line):\(e.column), got stderr:\n\(r.stderr)")
        continue
      }
      let (at, line) = reported[i]
      #expect(line == "error: " + e.message, "\(c.name): diagnostic \(i + 1)")
      let location = stderrLines.dropFirst(at + 1).first { $0.contains("--> ") } ?? ""
      #expect(location.hasSuffix(":\(e.line):\(e.column)"), "\(c.name): location of `\(e.message)` is `\(location)`")
    }
    if c.errors.isEmpty && c.exit == 0 {
      #expect(reported.isEmpty, "\(c.name): unexpected diagnostics:\n\(r.stderr)")
    }
    for s in c.stderrContains {
      #expect(r.stderr.contains(s), "\(c.name): stderr lacks `\(s)`:\n\(r.stderr)")
    }
  }
}
