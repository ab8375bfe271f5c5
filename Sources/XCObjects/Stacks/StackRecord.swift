import XCShell

/// A stack given as an xcsh record (`stack up {services: {…}}`) turned into the YAML text the
/// Compose parser reads, so a record and a file go through the same checks.
///
/// A record has no lines and columns, so each emitted line remembers the key path it holds
/// (`services.web.ports[0]`): the parser reports an error on line N as "at `<path of line N>`",
/// and the shell error carries the call's span.
struct StackRecord {
  /// One key or item per line, block style.
  private(set) var yaml = ""
  /// The key path of each line of `yaml` (1-based, as Yams counts).
  private(set) var keyPaths: [Int: String] = [:]
  private var line = 0

  /// What a record cannot hold, with the key path of the value.
  struct Failure: Error {
    var keyPath: String
    var message: String
  }

  init(_ value: Value) throws(Failure) {
    guard let top = value.recordValue else {
      throw Failure(keyPath: "", message: "a stack record is a record with `services:`")
    }
    try mapping(top, path: "", indent: "")
  }

  private mutating func emit(_ text: String, path: String) {
    line += 1
    yaml += text + "\n"
    keyPaths[line] = path
  }

  private mutating func mapping(_ r: Record, path: String, indent: String) throws(Failure) {
    for (k, v) in r {
      let p = path.isEmpty ? k : "\(path).\(k)"
      try item(Self.quoted(k) + ":", v, path: p, indent: indent)
    }
  }

  /// `head` (`key:` or `-`) followed by `v`: on the same line when it is a scalar or an empty
  /// collection, else on the lines below, indented.
  private mutating func item(_ head: String, _ v: Value, path: String, indent: String) throws(Failure) {
    if let r = v.recordValue {
      if r.isEmpty { return emit(indent + head + " {}", path: path) }
      emit(indent + head, path: path)
      return try mapping(r, path: path, indent: indent + "  ")
    }
    if case .list(let items) = v.kind {
      if items.isEmpty { return emit(indent + head + " []", path: path) }
      emit(indent + head, path: path)
      for (i, x) in items.enumerated() { try item("-", x, path: "\(path)[\(i)]", indent: indent + "  ") }
      return
    }
    emit(indent + head + " " + (try Self.scalar(v, path: path)), path: path)
  }

  /// A scalar as YAML: strings double-quoted (never read as numbers or booleans), durations as
  /// Go durations (`1500ms`) as Compose writes them, sizes as bytes.
  static func scalar(_ v: Value, path: String) throws(Failure) -> String {
    switch v.kind {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .float(let d): return String(d)
    case .string(let s): return quoted(s)
    case .duration(let ns):
      return ns % 1_000_000 == 0 ? "\(ns / 1_000_000)ms" : ns % 1000 == 0 ? "\(ns / 1000)us" : "\(ns)ns"
    case .size(let bytes): return String(bytes)
    default:
      throw Failure(keyPath: path, message: "\(v.typeNameWithArticle) cannot be part of a stack (use strings, numbers, lists and records)")
    }
  }

  /// A YAML double-quoted scalar: everything but printable ASCII escaped.
  static func quoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 || u.value == 0x7f {
          let h = String(u.value, radix: 16)
          out += "\\x" + String(repeating: "0", count: 2 - h.count) + h
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }
}
