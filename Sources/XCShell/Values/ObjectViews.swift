/// How a terminal shows daemon objects: a curated set of columns for lists (`ps`, `images`) and
/// one line for a brief object (what `create`, `run -d`, `wait`, `… ensure` return). Only the
/// display changes: `select`, `get` and `--json` see every field.
public enum ObjectViews {
  /// (header, field path) of the columns a terminal shows for a list of objects of a type.
  static let columns: [ObjectType: [(String, [String])]] = [
    .container: [
      ("name", ["name"]), ("id", ["id"]), ("image", ["image_reference"]), ("status", ["status"]), ("ip", ["ip"]),
      ("ports", ["ports"]), ("age", ["created"]),
    ],
    .image: [
      ("reference", ["image_reference"]), ("digest", ["digest"]), ("os", ["manifest", "os"]),
      ("arch", ["manifest", "architecture"]), ("layers", ["manifest", "rootfs", "diff_ids"]),
    ],
  ]

  static func field(_ fields: Record, _ path: [String]) -> Value? {
    var v: Value? = .record(fields)
    for key in path { v = v?.recordValue?[key] }
    return v
  }

  /// The rows of a compact table, or nil when the items are not all objects of one type
  /// that has a curated view. Columns no row has a value for are left out.
  static func compact(_ items: [Value]) -> [Value]? {
    guard case .object(let first)? = items.first?.kind, let columns = columns[first.type] else { return nil }
    var objects: [ObjectValue] = []
    for item in items {
      guard case .object(let o) = item.kind, o.type == first.type else { return nil }
      objects.append(o)
    }
    let used = columns.filter { _, path in objects.contains { field($0.fields, path).map { !$0.isNull } ?? false } }
    return objects.map { o in
      var r = Record()
      for (header, path) in used {
        var v = field(o.fields, path) ?? .null
        if header == "digest", case .string(let d) = v.kind { v = .string(String(d.split(separator: ":").last?.prefix(12) ?? "")) }
        if header == "layers", case .list(let l) = v.kind { v = .int(l.count) }
        r[header] = v
      }
      return .record(r)
    }
  }

  /// One line for a brief object: `container web 5f3c9a7e21b4 running busybox:latest 172.16.0.2`.
  static func line(_ o: ObjectValue) -> String {
    let keys: [String]
    switch o.type {
    case .container: keys = ["name", "id", "status", "image_reference", "ip", "exit_code"]
    case .image: keys = ["image_reference", "digest"]
    case .network: keys = ["name", "subnet", "bridge_iface"]
    case .volume: keys = ["name", "driver", "device"]
    }
    let words = keys.compactMap { k -> String? in
      guard let v = o.fields[k], !v.isNull else { return nil }
      return k == "exit_code" ? "exit \(v.plain)" : v.plain
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
