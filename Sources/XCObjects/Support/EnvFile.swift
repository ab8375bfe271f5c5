/// Docker's `--env-file` format: one `NAME=VALUE` per line, the value taken literally (no
/// quotes or escapes are interpreted); a line that is blank or starts with `#` (after leading
/// blanks) is skipped; a bare `NAME` takes that variable from xcsh's own environment and is
/// left out when it is unset, as Docker does.
enum EnvFile {
  /// A line that is not an assignment: the file, its 1-based line number, and why.
  struct Failure: Error, Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    var reason: String
    var description: String { "\(file):\(line): \(reason)" }
  }

  /// The variables of `text` (read from `file`, named in errors) in order; later lines win.
  static func parse(_ text: String, file: String, environment: [String: String]) throws -> [(String, String)] {
    var out: [(String, String)] = []
    // Split on bytes: to Swift, "\r\n" is one Character, not a line end after a "\r".
    for (i, raw) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
      var bytes = raw
      if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
      let line = Substring(String(decoding: bytes, as: UTF8.self))
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let name: Substring
      let value: Substring?
      if let eq = trimmed.firstIndex(of: "=") {
        name = trimmed[..<eq]
        value = trimmed[trimmed.index(after: eq)...]
      } else {
        var bare = trimmed
        while let last = bare.last, last == " " || last == "\t" { bare = bare.dropLast() }
        name = bare
        value = nil
      }
      guard !name.isEmpty else {
        throw Failure(file: file, line: i + 1, reason: "no variable name before `=`")
      }
      if let bad = name.first(where: { $0 == " " || $0 == "\t" || $0 == "\0" }) {
        throw Failure(
          file: file, line: i + 1,
          reason: "variable name `\(name)` contains \(bad == "\0" ? "a NUL byte" : "white space")")
      }
      if let value {
        out.append((String(name), String(value)))
      } else if let inherited = environment[String(name)] {
        out.append((String(name), inherited))
      }
    }
    return out
  }
}
