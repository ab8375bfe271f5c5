import Glibc

/// Container ids and names as xc makes them.
enum ContainerNames {
  /// 12 lowercase hex characters: the last group of a random UUIDv4, as xc does.
  static func newID() -> String {
    let hex = Array("0123456789abcdef")
    return String((0..<12).map { _ in hex[Int.random(in: 0..<16)] })
  }

  /// xc's rules (a name must not parse as an integer nor contain a dot), plus what a Linux
  /// hostname and a path component need: at most 64 characters, no '/', no whitespace.
  static func validate(_ name: String) throws {
    func bad(_ why: String) -> EngineError {
      EngineError(.badName, "bad container name \"\(name)\": \(why)",
                  help: "use letters, digits, '-' and '_'", errno: .invalidArgument)
    }
    if name.isEmpty { throw bad("it is empty") }
    if Int64(name) != nil { throw bad("container name cannot be integer literal") }
    if name.contains(".") { throw bad("a name cannot contain dot (.)") }
    if name.count > 64 { throw bad("at most 64 characters") }
    if name.contains(where: { $0 == "/" || $0.isWhitespace || $0.isNewline || !$0.isASCII || $0 == "\0" }) {
      throw bad("it contains '/', whitespace or non-ASCII characters")
    }
  }
}
