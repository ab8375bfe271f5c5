/// Renders values for people: aligned tables for lists of records, key/value views for records.
public struct TableRenderer: Sendable {
  /// Terminal width in columns; tables are fitted to it.
  public var width: Int
  /// Box drawing, colour and index column (TTY), or plain aligned text.
  public var fancy: Bool
  public var color: Bool
  /// When set (on a terminal), datetimes show as their age at this instant (`2m ago`).
  public var now: Int64?

  public init(width: Int = 80, fancy: Bool = false, color: Bool = false) {
    self.width = max(20, width)
    self.fancy = fancy
    self.color = color
  }

  private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

  /// A value as a table cell: nested structures inline (`{a: 1, b: [x, y]}`), shortened.
  func cell(_ v: Value) -> String {
    switch v.kind {
    case .list, .record: return Self.inline(v, depth: 0, budget: 80)
    case .object(let o): return "<\(o.type.rawValue) \(o.fields["name"]?.plain ?? o.fields["id"]?.plain ?? "")>"
    case .datetime(let t): return now.map { DateTime.age(t, now: $0) } ?? v.plain
    default:
      return v.plain.replacingNewlines()
    }
  }

  /// A list or record on one line, two levels deep, cut with `…` (and what is left) when it
  /// would pass `budget` characters.
  static func inline(_ v: Value, depth: Int, budget: Int) -> String {
    let items: [(String?, Value)]
    let (open, close): (String, String)
    switch v.kind {
    case .list(let l):
      items = l.map { (nil, $0) }
      (open, close) = ("[", "]")
    case .record, .object:
      items = (v.recordValue ?? Record()).map { ($0.0, $0.1) }
      (open, close) = ("{", "}")
    default: return v.plain.replacingNewlines()
    }
    if items.isEmpty { return open + close }
    if depth >= 2 { return open + "…" + close }
    var out = open
    for (i, (key, item)) in items.enumerated() {
      let text = (key.map { $0 + ": " } ?? "") + inline(item, depth: depth + 1, budget: budget)
      if out.count + text.count > budget, i > 0 {
        return out + ", … \(items.count - i) more" + close
      }
      out += (i > 0 ? ", " : "") + text
    }
    return out + close
  }

  /// Renders a list of records as a table (columns are the union of keys in first-seen order).
  public func table(_ rows: [Value]) -> String {
    var columns: [String] = []
    var seen = Set<String>()
    for row in rows {
      for k in row.recordValue?.keys ?? [] where !seen.contains(k) {
        seen.insert(k)
        columns.append(k)
      }
    }
    var header = columns
    var cells: [[String]] = rows.map { row in
      let r = row.recordValue ?? Record()
      return columns.map { r[$0].map(cell) ?? "" }
    }
    var numeric: [Bool] = columns.map { c in
      rows.allSatisfy { row in
        guard let v = row.recordValue?[c] else { return true }
        switch v.kind {
        case .int, .float, .size, .duration, .null: return true
        default: return false
        }
      }
    }
    if fancy {
      header.insert("#", at: 0)
      numeric.insert(true, at: 0)
      for i in cells.indices { cells[i].insert(String(i), at: 0) }
    }
    var widths = header.map(\.displayWidth)
    for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.displayWidth) } }
    // Shrink the widest columns until the table fits the terminal.
    let overhead = fancy ? 3 * widths.count + 1 : 2 * (widths.count - 1)
    while fancy, widths.reduce(0, +) + overhead > width {
      guard let widest = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[widest] > 4 else { break }
      widths[widest] -= 1
    }
    func fit(_ s: String, _ w: Int, _ right: Bool) -> String {
      var s = s
      if s.displayWidth > w { s = String(s.prefix(max(0, w - 1))) + "…" }
      let pad = String(repeating: " ", count: max(0, w - s.displayWidth))
      return right ? pad + s : s + pad
    }
    var out = ""
    if fancy {
      let line = { (l: String, m: String, r: String) in
        l + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: m) + r + "\n"
      }
      out += paint(line("╭", "┬", "╮"), "2")
      out += paint("│", "2") + header.enumerated().map { i, h in " " + paint(fit(h, widths[i], false), "1;32") + " " }
        .joined(separator: paint("│", "2")) + paint("│", "2") + "\n"
      out += paint(line("├", "┼", "┤"), "2")
      for row in cells {
        out += paint("│", "2")
          + row.enumerated().map { i, c in " " + fit(c, widths[i], numeric[i]) + " " }.joined(separator: paint("│", "2"))
          + paint("│", "2") + "\n"
      }
      out += paint(line("╰", "┴", "╯"), "2")
    } else {
      let last = header.count - 1
      func join(_ row: [String]) -> String {
        row.enumerated().map { i, c in i == last && !numeric[i] ? c : fit(c, widths[i], numeric[i]) }
          .joined(separator: "  ").trimmingTrailingSpaces() + "\n"
      }
      out += join(header)
      for row in cells { out += join(row) }
    }
    return out
  }

  /// Renders one record as aligned `key  value` lines.
  public func record(_ r: Record) -> String {
    let keyWidth = r.keys.map(\.displayWidth).max() ?? 0
    var out = ""
    for (k, v) in r {
      let pad = String(repeating: " ", count: keyWidth - k.displayWidth)
      let text: String
      switch v.kind {
      case .list(let items) where !items.isEmpty && items.allSatisfy({ $0.recordValue != nil }):
        text = cell(v)
      default: text = fancy ? cell(v) : v.plain
      }
      out += paint(k, "1;32") + pad + (fancy ? " │ " : "  ") + text + "\n"
    }
    return out
  }
}

extension String {
  /// Columns the string takes on a terminal (wide East Asian characters count 2).
  var displayWidth: Int {
    var w = 0
    for s in unicodeScalars {
      let v = s.value
      if v < 0x20 || (v >= 0x300 && v < 0x370) || v == 0x200B { continue }
      if (v >= 0x1100 && v <= 0x115F) || (v >= 0x2E80 && v <= 0xA4CF) || (v >= 0xAC00 && v <= 0xD7A3)
        || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0xFF00 && v <= 0xFF60) || (v >= 0x1F300 && v <= 0x1FAFF)
      {
        w += 2
      } else {
        w += 1
      }
    }
    return w
  }

  func replacingNewlines() -> String {
    guard contains("\n") || contains("\r") else { return self }
    return String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
  }

  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.hasSuffix(" ") { s.removeLast() }
    return s
  }
}
