/// How a terminal shows daemon objects: a curated set of columns for lists (`ps`, `images`) and
/// one line for a brief object (what `create`, `run -d`, `wait`, `… ensure` return). Only the
/// display changes: `select`, `get` and `--json` see every field.
public enum ObjectViews {
  static func field(_ fields: Record, _ path: [String]) -> Value? {
    var v: Value? = .record(fields)
    for key in path { v = v?.recordValue?[key] }
    return v
  }

  /// The rows of a compact table, or nil when the items are not all objects of one type
  /// that has a curated view. Columns no row has a value for are left out.
  static func compact(_ items: [Value]) -> [Value]? {
    guard case .object(let first)? = items.first?.kind, let columns = ObjectKinds.kind(of: first.type)?.columns,
      !columns.isEmpty
    else { return nil }
    var objects: [ObjectValue] = []
    for item in items {
      guard case .object(let o) = item.kind, o.type == first.type else { return nil }
      objects.append(o)
    }
    let used = columns.filter { c in objects.contains { field($0.fields, c.path).map { !$0.isNull } ?? false } }
    return objects.map { o in
      var r = Record()
      for c in used {
        let v = field(o.fields, c.path) ?? .null
        r[c.header] = v.isNull ? v : c.format?(v) ?? v
      }
      return .record(r)
    }
  }

  /// One line for a brief object: `container web 5f3c9a7e21b4 running busybox:latest 172.16.0.2`.
  /// A kind nobody registered shows its name or id.
  static func line(_ o: ObjectValue) -> String {
    let brief = ObjectKinds.kind(of: o.type)?.brief ?? [ObjectKind.Column("name", ["name"]), ObjectKind.Column("id", ["id"])]
    let words = brief.compactMap { c -> String? in
      guard let v = field(o.fields, c.path), !v.isNull else { return nil }
      return (c.format?(v) ?? v).plain
    }
    return ([o.type.rawValue] + words).joined(separator: " ")
  }

  /// A brief object, or `{action, object}` holding one, as its line; nil for anything else.
  static func briefLine(_ v: Value) -> String? {
    switch v.kind {
    case .object(let o) where o.brief: return line(o)
    case .record(let r):
      guard r.count == 2, case .string(let action)? = r["action"]?.kind, case .object(let o)? = r["object"]?.kind, o.brief
      else { return nil }
      return "\(action): \(line(o))"
    default: return nil
    }
  }
}
