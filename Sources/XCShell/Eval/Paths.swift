/// Following cell paths: `$x.name`, `$x.0`, `$x.name?`.
enum Paths {
  static func follow(_ value: Value, _ members: ArraySlice<PathMember>, at span: Span) throws -> Value {
    var v = value
    for m in members {
      // The common case first, without the tuple below (a copy of the value per member).
      if case .name(let key, _, _) = m, case .record(let r) = v.kind, let i = r.index(of: key) {
        v = r.values[i]
        continue
      }
      switch (m, v.kind) {
      case (.name(let key, let s, let optional), _) where v.recordValue != nil:
        guard let f = v.recordValue![key] else {
          if optional { return .null }
          var e = ShellError(.pathMissing, "no field `\(key)` in this \(v.typeName)", at: s)
          let keys = v.recordValue!.keys
          if let close = Suggest.closest(key, in: keys) {
            e.help = "did you mean `\(close)`?"
          } else if !keys.isEmpty {
            e.help = "fields: " + keys.prefix(12).joined(separator: ", ") + (keys.count > 12 ? ", …" : "")
          }
          throw e
        }
        v = f
      case (.name(let key, let s, let optional), .list(let rows)):
        // A field of a table is the column.
        var col: [Value] = []
        for r in rows {
          guard let rec = r.recordValue else {
            throw ShellError(.pathMissing, "cannot take field `\(key)` of \(r.typeNameWithArticle) in a list", at: s)
          }
          if let f = rec[key] { col.append(f) } else if optional { col.append(.null) } else {
            throw ShellError(.pathMissing, "a row has no field `\(key)`", at: s)
          }
        }
        v = .list(col, v.span)
      case (.index(let i, let s, let optional), .list(let items)):
        guard i >= 0, i < items.count else {
          if optional { return .null }
          throw ShellError(.pathIndex, "index \(i) is out of range (list has \(items.count) item\(items.count == 1 ? "" : "s"))", at: s)
        }
        v = items[i]
      case (.index(let i, let s, let optional), .range):
        let items = try v.asList()
        guard i >= 0, i < items.count else {
          if optional { return .null }
          throw ShellError(.pathIndex, "index \(i) is out of range", at: s)
        }
        v = items[i]
      case (.index(let i, let s, let optional), _) where v.recordValue != nil:
        guard let f = v.recordValue![String(i)] else {
          if optional { return .null }
          throw ShellError(.pathMissing, "no field `\(i)` in this record", at: s)
        }
        v = f
      case (_, .null) where m.optional:
        return .null
      default:
        if m.optional { return .null }
        throw ShellError(.pathType, "cannot take `\(describe(m))` of \(v.typeNameWithArticle)", at: m.span, note: v.typeName)
      }
    }
    return v
  }

  static func describe(_ m: PathMember) -> String {
    switch m {
    case .name(let n, _, _): ".\(n)"
    case .index(let i, _, _): ".\(i)"
    }
  }

  /// A cell path given as an argument (`get name.0`): a string split at dots, or an int.
  static func members(_ v: Value) throws -> [PathMember] {
    switch v.kind {
    case .int(let i): return [.index(Int(i), v.span, optional: false)]
    case .string(let s):
      return s.split(separator: ".", omittingEmptySubsequences: false).map { part in
        var p = String(part)
        let optional = p.hasSuffix("?")
        if optional { p.removeLast() }
        if let i = Int(p) { return .index(i, v.span, optional: optional) }
        return .name(p, v.span, optional: optional)
      }
    default: throw ShellError.typeMismatch(expected: "cell-path", found: v)
    }
  }
}
