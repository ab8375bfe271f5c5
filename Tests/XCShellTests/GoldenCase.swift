import Foundation
import Testing

/// One golden case: a script under `Cases/` whose comments state what running it must produce.
///
///     print (7 / 2)        # expect: 3.5
///     $xs | where $it > "a"
///     # expect error 5:19: cannot compare int with string
///     # expect stderr: help: convert first
///     # expect exit: 1
///
/// Directives at the top: `# test: args A B`, `# test: flags --dry-run`, `# test: env NAME=VALUE`, `# test: stdin TEXT`,
/// `# test: mode=check`, `# test: json`, `# test: tmpdir` (run in a fresh temporary directory).
struct GoldenCase: CustomTestStringConvertible, Sendable {
  let path: String
  let name: String
  var stdout: [String] = []
  var errors: [ExpectedError] = []
  var stderrContains: [String] = []
  var exit: Int32 = 0
  var arguments: [String] = []
  /// xcsh's own flags, before the script (`# test: flags --dry-run`).
  var flags: [String] = []
  var environment: [String: String] = [:]
  var stdin: String? = nil
  var check = false
  var json = false
  /// Run in a fresh temporary directory (for cases that write files).
  var tmpdir = false

  var testDescription: String { name }

  init(path: String, root: String) throws {
    self.path = path
    self.name = String(path.dropFirst(root.count + 1))
    let text = try String(contentsOfFile: path, encoding: .utf8)
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard let hash = line.range(of: "# ") else { continue }
      let comment = line[hash.upperBound...]
      // A comment that reads as an expectation or a directive must be a known form: a typo
      // would otherwise drop the check silently and the case would pass without testing it.
      let malformed = { (why: String) in
        GoldenCaseError(path: path, line: index + 1, message: "\(why): `# \(comment)`")
      }
      if let r = comment.range(of: "expect: ", options: .anchored) {
        stdout.append(String(comment[r.upperBound...]))
      } else if comment == "expect-empty-line" {
        stdout.append("")
      } else if let r = comment.range(of: "expect error ", options: .anchored) {
        let rest = comment[r.upperBound...]
        let parts = rest.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, let l = Int(parts[0]), let c = Int(parts[1]) else {
          throw malformed("`expect error` wants LINE:COL: MESSAGE")
        }
        errors.append(ExpectedError(line: l, column: c, message: parts[2].trimmingCharacters(in: .whitespaces)))
      } else if let r = comment.range(of: "expect stderr: ", options: .anchored) {
        stderrContains.append(String(comment[r.upperBound...]))
      } else if let r = comment.range(of: "expect exit: ", options: .anchored) {
        guard let code = Int32(comment[r.upperBound...].trimmingCharacters(in: .whitespaces)) else {
          throw malformed("`expect exit` wants a number")
        }
        exit = code
      } else if let r = comment.range(of: "test: ", options: .anchored) {
        let d = comment[r.upperBound...]
        if let a = d.range(of: "args ", options: .anchored) {
          arguments = d[a.upperBound...].split(separator: " ").map(String.init)
        } else if let e = d.range(of: "env ", options: .anchored) {
          let kv = d[e.upperBound...].split(separator: "=", maxSplits: 1)
          guard kv.count == 2 else { throw malformed("`test: env` wants NAME=VALUE") }
          environment[String(kv[0])] = String(kv[1])
        } else if let s = d.range(of: "stdin ", options: .anchored) {
          stdin = String(d[s.upperBound...]).replacingOccurrences(of: "\\n", with: "\n")
        } else if let f = d.range(of: "flags ", options: .anchored) {
          flags = d[f.upperBound...].split(separator: " ").map(String.init)
        } else if d == "mode=check" {
          check = true
        } else if d == "json" {
          json = true
        } else if d == "tmpdir" {
          tmpdir = true
        } else {
          throw malformed("unknown directive (args, env, stdin, flags, mode=check, json, tmpdir)")
        }
      } else if comment.hasPrefix("expect") {
        throw malformed("unknown expectation (expect:, expect-empty-line, expect error, expect stderr:, expect exit:)")
      }
    }
  }

  /// Every `.xcs` file under the cases folder, sorted.
  static func all() throws -> [GoldenCase] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Cases").path
    guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
    var cases: [GoldenCase] = []
    while let rel = e.nextObject() as? String {
      guard rel.hasSuffix(".xcs") else { continue }
      if rel.contains("/lib/") || rel.hasPrefix("lib/") { continue }  // modules used by other cases
      cases.append(try GoldenCase(path: root + "/" + rel, root: root))
    }
    return cases.sorted { $0.name < $1.name }
  }
}

/// A case file whose expectation or directive comment cannot be read, at its file and line.
struct GoldenCaseError: Error, CustomStringConvertible {
  var path: String
  var line: Int
  var message: String
  var description: String { "\(path):\(line): \(message)" }
}

struct ExpectedError: Sendable {
  var line: Int
  var column: Int
  var message: String
}
