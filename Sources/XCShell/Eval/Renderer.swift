/// Turns a result into text for the terminal: tables, key/value views or plain lines.
struct Renderer {
  let options: ShellOptions

  init(_ options: ShellOptions) { self.options = options }

  func render(_ v: Value, plainTable: Bool = false) -> String {
    let fancy = options.stdoutIsTTY && !plainTable
    var table = TableRenderer(width: options.terminalWidth, fancy: fancy, color: options.color && !plainTable)
    if fancy {
      // A terminal shows datetimes as ages, object lists in their curated columns and what a
      // state-changing command returned as one line (ObjectViews); the values are unchanged.
      table.now = DateTime.now()
      if let line = ObjectViews.briefLine(v) { return line + "\n" }
    }
    switch v.kind {
    case .null: return ""
    case .list(let items) where !items.isEmpty && items.allSatisfy({ $0.recordValue != nil }):
      if fancy, let rows = ObjectViews.compact(items) { return table.table(rows) }
      return table.table(items)
    case .list(let items):
      return items.map { $0.recordValue != nil || isList($0) ? $0.toJSON() + "\n" : $0.plain + "\n" }.joined()
    case .record, .object:
      return table.record(v.recordValue!)
    default:
      let s = v.plain
      return s.hasSuffix("\n") ? s : s + "\n"
    }
  }

  private func isList(_ v: Value) -> Bool { if case .list = v.kind { true } else { false } }
}
