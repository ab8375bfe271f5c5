/// Help text generated from signatures: `help`, `help NAME`, and `--help` of `fn main`.
public enum Help {
  /// `sort-by [--reverse] [--limit int] ...columns`
  public static func usage(_ sig: Signature) -> String {
    var parts = [sig.name]
    for p in sig.parameters {
      switch p.kind {
      case .required: parts.append("<\(p.name)>")
      case .optional: parts.append("[\(p.name)]")
      case .rest: parts.append("...\(p.name)")
      case .switch: parts.append("[--\(p.name)]")
      case .named: parts.append("[--\(p.name) \(p.shape.name)]")
      }
    }
    return parts.joined(separator: " ")
  }

  public static func text(_ sig: Signature) -> String {
    var out = ""
    if !sig.summary.isEmpty { out += sig.summary + "\n\n" }
    if !sig.details.isEmpty { out += sig.details + "\n\n" }
    out += "Usage:\n  \(usage(sig))\n"
    let flags = sig.parameters.filter(\.isFlag)
    let positional = sig.parameters.filter { !$0.isFlag }
    func row(_ left: String, _ right: String) -> String {
      let pad = max(2, 24 - left.count)
      return "  " + left + String(repeating: " ", count: pad) + right + "\n"
    }
    if !positional.isEmpty {
      out += "\nParameters:\n"
      for p in positional {
        var note = p.summary
        if p.kind == .optional { note += note.isEmpty ? "(optional)" : " (optional)" }
        if let d = p.defaultValue { note += " (default: \(d.plain))" }
        out += row("\(p.kind == .rest ? "..." : "")\(p.name) <\(p.shape.name)>", note)
      }
    }
    do {
      out += "\nFlags:\n"
      for p in flags {
        let short = p.short.map { "-\($0), " } ?? ""
        let value = p.kind == .named ? " <\(p.shape.name)>" : ""
        var note = p.summary
        if let d = p.defaultValue { note += " (default: \(d.plain))" }
        out += row("\(short)--\(p.name)\(value)", note)
      }
      out += row("-h, --help", "Show this help.")
    }
    if !sig.examples.isEmpty {
      out += "\nExamples:\n"
      for e in sig.examples {
        if !e.summary.isEmpty { out += "  \(e.summary):\n" }
        out += "    > \(e.code)\n"
        if let r = e.result { out += "    \(r)\n" }
      }
    }
    return out
  }

  /// The list of every command, grouped by category.
  public static func index(_ commands: [any Command]) -> String {
    var out = "xcsh \(ShellOptions.version) — commands (help NAME for details)\n"
    for cat in Category.allCases {
      let cs = commands.filter { $0.signature.category == cat }.sorted { $0.signature.name < $1.signature.name }
      guard !cs.isEmpty else { continue }
      out += "\n\(cat.rawValue):\n"
      let width = (cs.map { $0.signature.name.count }.max() ?? 0) + 2
      for c in cs {
        let name = c.signature.name
        out += "  " + name + String(repeating: " ", count: width - name.count) + c.signature.summary + "\n"
      }
    }
    out += "\nlanguage: let var fn if else for while loop break continue return defer try catch source use\n"
    return out
  }

  /// The signature as a record, for `help --json`.
  public static func json(_ sig: Signature) -> Value {
    var r = Record()
    r["name"] = .string(sig.name)
    r["category"] = .string(sig.category.rawValue)
    r["summary"] = .string(sig.summary)
    r["usage"] = .string(usage(sig))
    r["parameters"] = .list(
      sig.parameters.map { p in
        var pr = Record()
        pr["name"] = .string(p.name)
        pr["kind"] = .string("\(p.kind)")
        pr["type"] = .string(p.shape.name)
        pr["short"] = p.short.map { .string(String($0)) } ?? .null
        pr["summary"] = .string(p.summary)
        pr["default"] = p.defaultValue ?? .null
        return .record(pr)
      })
    r["examples"] = .list(
      sig.examples.map { e in
        .record(Record([("summary", .string(e.summary)), ("code", .string(e.code)), ("result", e.result.map { .string($0) } ?? .null)]))
      })
    return .record(r)
  }
}
