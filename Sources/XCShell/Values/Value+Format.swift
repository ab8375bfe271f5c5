import Foundation

extension Value {
  /// The plain form `print` writes: strings as they are, numbers in their shortest exact form,
  /// `null` as nothing, lists and records as compact JSON.
  public var plain: String {
    switch kind {
    case .null: ""
    case .bool(let b): b ? "true" : "false"
    case .int(let i): String(i)
    case .float(let d): Value.formatFloat(d)
    case .string(let s): s
    case .duration(let d): Value.formatDuration(d)
    case .size(let s): Value.formatSize(s)
    case .datetime(let t): DateTime.iso(t)
    case .range(let r): Value.formatRange(r)
    case .closure: "<closure>"
    case .bytes(let b): String(decoding: b, as: UTF8.self)
    case .list, .record, .object: toJSON()
    }
  }

  static func formatRange(_ r: RangeValue) -> String {
    "\(r.start)\(r.inclusive ? ".." : "..<")\(r.end.map(String.init) ?? "")"
  }

  /// The shortest text that reads back as the same double; integral values keep a `.0`.
  static func formatFloat(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
    return "\(d)"
  }

  private static let durationUnits: [(String, Int64)] = [
    ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
    ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000), ("ns", 1),
  ]

  /// `2s`, `2.5s`, `1.5h`, `250ms`: the largest unit with the value shown exactly (up to 3 decimals).
  static func formatDuration(_ ns: Int64) -> String {
    if ns == 0 { return "0s" }
    let sign = ns < 0 ? "-" : ""
    let m = ns.magnitude
    for (name, unit) in durationUnits where m >= UInt64(unit) {
      let whole = m / UInt64(unit)
      let frac = m % UInt64(unit)
      if frac == 0 { return "\(sign)\(whole)\(name)" }
      let scaled = Double(m) / Double(unit)
      let text = String(format: "%.3f", scaled).trimmingTrailingZeros()
      if Double(text).map({ ($0 * Double(unit)).rounded() == Double(m) }) ?? false { return "\(sign)\(text)\(name)" }
    }
    return "\(sign)\(m)ns"
  }

  private static let binaryUnits: [(String, Int64)] = [
    ("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
  ]
  private static let decimalUnits: [(String, Int64)] = [
    ("PB", 1_000_000_000_000_000), ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000),
    ("KB", 1_000),
  ]

  /// The exact form with the largest unit (`1200MB`, `64MiB`, `1GB`), else decimal units with up to
  /// two decimals (`1.5KB`).
  static func formatSize(_ bytes: Int64) -> String {
    let sign = bytes < 0 ? "-" : ""
    let m = Int64(bytes.magnitude)
    let exact = (binaryUnits + decimalUnits).filter { m >= $0.1 && m % $0.1 == 0 }.max { $0.1 < $1.1 }
    if let (name, unit) = exact { return "\(sign)\(m / unit)\(name)" }
    for (name, unit) in decimalUnits where m >= unit {
      let text = String(format: "%.2f", Double(m) / Double(unit)).trimmingTrailingZeros()
      return "\(sign)\(text)\(name)"
    }
    return "\(sign)\(m)B"
  }
}

extension String {
  func trimmingTrailingZeros() -> String {
    guard contains(".") else { return self }
    var s = self
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
  }
}
