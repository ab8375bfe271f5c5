import Foundation
import Testing
import XCTestSupport

/// The code blocks of README.md, docs/language.md and docs/jailfile.md (issue 18): every fence
/// says what it holds, and what it says is true.
///
/// - ```` ```xcsh ````: `xcsh --check` finds nothing; then the block runs with the built `xcsh
///   --dry-run` against the daemon stand-in, in a directory holding the files the docs name, and
///   must succeed. Each `# → TEXT` (in a comment, after the code or on its own line) is a line
///   the block prints, in order. A block whose first line is `# check-only: WHY` is only checked.
/// - ```` ```diagnostic ````: an error as xcsh shows it. The source line it quotes (`N | CODE`),
///   after the setup of a `<!-- given: CODE -->` line right above the fence if any, is checked
///   (or run, when the check passes) and must give that message, column and help.
/// - ```` ```sh ````, ```` ```text ````: a host shell's commands, or text; not run.
@Suite(.serialized) struct DocBlocksTests {
  struct Block: CustomStringConvertible {
    var file: String
    var line: Int
    var info: String
    var code: String
    var given: String
    var description: String { "\(file):\(line) (\(info))" }
  }

  static let files = ["README.md", "docs/language.md", "docs/jailfile.md"]
  static let kinds: Set<String> = ["xcsh", "diagnostic", "sh", "text"]

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  static let blocks: [Block] = {
    var out: [Block] = []
    for file in files {
      let text = (try? String(contentsOfFile: root + "/" + file, encoding: .utf8)) ?? ""
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      var i = 0
      while i < lines.count {
        guard lines[i].hasPrefix("```") else {
          i += 1
          continue
        }
        let info = String(lines[i].dropFirst(3)).trimmingCharacters(in: .whitespaces)
        var given = ""
        if i > 0, lines[i - 1].hasPrefix("<!-- given: "), lines[i - 1].hasSuffix(" -->") {
          given = String(lines[i - 1].dropFirst("<!-- given: ".count).dropLast(" -->".count))
        }
        var j = i + 1
        while j < lines.count, !lines[j].hasPrefix("```") { j += 1 }
        out.append(Block(file: file, line: i + 1, info: info, code: lines[(i + 1)..<min(j, lines.count)].joined(separator: "\n"), given: given))
        i = j + 1
      }
    }
    return out
  }()

  static func labels(_ kind: String) -> [String] { blocks.filter { $0.info == kind }.map(\.description) }
  static func block(_ label: String) -> Block { blocks.first { $0.description == label }! }

  /// Runs the built xcsh in `dir` and returns (status, stdout, stderr).
  static func xcsh(_ args: [String], in dir: String) throws -> (Int32, String, String) {
    let r = try ProgramRun.run(
      DocExamplesTests.binary, args, cwd: dir, environment: ["NO_COLOR": "1", "XCSH_HOSTS": dir + "/hosts.yaml"])
    return (r.status, r.stdout, r.stderr)
  }

  /// The examples' directory, with a Jailfile that builds without arguments (README's `build .`).
  static func workdir() throws -> String {
    let dir = try DocExamplesTests.workdir("doc-blocks")
    try "FROM busybox:latest\nRUN echo hi\n".write(toFile: dir + "/Jailfile", atomically: true, encoding: .utf8)
    return dir
  }

  static func fakeDaemon(_ dir: String) throws -> FakeDaemon {
    try FakeDaemon(replies: [
      "xcsh.list_ended": FakeDaemon.ok("[]"),
      "xcsh.logs": FakeDaemon.ok(#"{"stdout_log_file":"\#(dir)/main.log","stderr_log_file":"\#(dir)/main.log"}"#),
    ])
  }

  /// The `# → TEXT` lines of a block, in order.
  static func shownOutput(_ code: String) -> [String] {
    code.split(separator: "\n").compactMap { line in
      guard let hash = line.range(of: "# "), let arrow = line[hash.upperBound...].range(of: "→ ") else { return nil }
      return String(line[arrow.upperBound...])
    }
  }

  @Test func everyFenceSaysWhatItHolds() {
    #expect(Self.blocks.count >= 15, "\(Self.blocks.count) blocks")
    for b in Self.blocks {
      #expect(Self.kinds.contains(b.info), "\(b): a fence needs one of \(Self.kinds.sorted())")
    }
    #expect(Self.labels("xcsh").count >= 9)
    #expect(Self.labels("diagnostic").count >= 3)
  }

  @Test("xcsh block is checked and runs", arguments: labels("xcsh"))
  func xcshBlock(_ label: String) throws {
    let b = Self.block(label)
    let dir = try Self.workdir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (checked, _, checkErr) = try Self.xcsh(["--check", "-c", b.code], in: dir)
    #expect(checked == 0 && checkErr.isEmpty, "\(b): --check\n\(checkErr)")
    if b.code.hasPrefix("# check-only: ") { return }
    let fake = try Self.fakeDaemon(dir)
    defer { fake.stop() }
    let (status, out, err) = try Self.xcsh(["--dry-run", "--socket", fake.path, "-c", b.code], in: dir)
    #expect(status == 0, "\(b)\n\(err)")
    // What the block shows it prints, in order (other lines may come between).
    var printed = out.split(separator: "\n", omittingEmptySubsequences: false)[...]
    for expected in Self.shownOutput(b.code) {
      guard let i = printed.firstIndex(where: { $0 == expected }) else {
        Issue.record("\(b): `\(expected)` not printed (in order)\n\(out)")
        return
      }
      printed = printed[(i + 1)...]
    }
  }

  @Test("diagnostic block is what xcsh says", arguments: labels("diagnostic"))
  func diagnosticBlock(_ label: String) throws {
    let b = Self.block(label)
    let lines = b.code.split(separator: "\n").map(String.init)
    let message = try #require(lines.first { $0.hasPrefix("error: ") }, "\(b): no `error:` line")
    let location = try #require(lines.first { $0.hasPrefix(" --> ") }, "\(b): no ` --> FILE:LINE:COL` line")
    let column = try #require(location.split(separator: ":").last.flatMap { Int($0) }, "\(b): \(location)")
    let source = try #require(
      lines.first { $0.range(of: #"^\d+ \| "#, options: .regularExpression) != nil }, "\(b): no `N | CODE` line")
    let code = String(source[source.range(of: "| ")!.upperBound...])
    let help = lines.first { $0.hasPrefix("  = help: ") }
    let script = b.given.isEmpty ? code : b.given + "\n" + code
    let line = b.given.isEmpty ? 1 : 2
    let dir = try Self.workdir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var (status, _, err) = try Self.xcsh(["--check", "-c", script], in: dir)
    if status == 0 {
      let fake = try Self.fakeDaemon(dir)
      defer { fake.stop() }
      (status, _, err) = try Self.xcsh(["--dry-run", "--socket", fake.path, "-c", script], in: dir)
    }
    #expect(status != 0, "\(b): no error")
    #expect(err.contains(message + "\n"), "\(b): xcsh says\n\(err)")
    #expect(err.contains(" --> <command>:\(line):\(column)\n"), "\(b): xcsh says\n\(err)")
    if let help { #expect(err.contains(help), "\(b): xcsh says\n\(err)") }
  }
}
