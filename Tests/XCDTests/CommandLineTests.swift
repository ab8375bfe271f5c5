import Foundation
import Testing

/// xcsh's command line: the plain forms (`-c CODE`, a script, each with plain arguments) that
/// xcsh parses without ArgumentParser mean what ArgumentParser makes of them, and the forms
/// that still go through it (an option, `--`) give the same.
struct CommandLineTests {
  /// Runs `xcsh arguments` with no daemon to reach; returns status and stdout.
  func run(_ arguments: [String]) throws -> (status: Int32, out: String) {
    let r = try Xcsh.run(arguments, timeout: .seconds(60))
    return (r.status, r.stdout)
  }

  @Test func plainFormsReadAsArgumentParserReadsThem() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xcsh-cmdline-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let script = dir.appendingPathComponent("args.xcs").path
    try "print ($args | to json)\n".write(toFile: script, atomically: true, encoding: .utf8)

    let cases: [([String], String)] = [
      // Plain: no ArgumentParser.
      (["-c", "print ($args | to json)"], "[]"),
      (["-c", "print ($args | to json)", "a", "b"], #"["a","b"]"#),
      (["--command", "print ($args | to json)", "daemon", "help"], #"["daemon","help"]"#),
      ([script], "[]"),
      ([script, "help", "x"], #"["help","x"]"#),
      // Through ArgumentParser: an option or `--` after the first word.
      (["-c", "print ($args | to json)", "--", "a"], #"["a"]"#),
      (["--json", "-c", "print ($args | to json)", "a"], #"["a"]"#),
      ([script, "x", "--", "-y"], #"["x","--","-y"]"#),
    ]
    for (arguments, expected) in cases {
      let r = try run(arguments)
      #expect(r.status == 0, "\(arguments)")
      #expect(r.out == expected + "\n", "\(arguments): \(r.out)")
    }
  }

  @Test func plainFormsKeepTheExitStatus() throws {
    #expect(try run(["-c", "exit 3"]).status == 3)
    #expect(try run(["--command", "exit 4"]).status == 4)
    let r = try run(["/nonexistent/script.xcs"])
    #expect(r.status == 1)
  }
}
