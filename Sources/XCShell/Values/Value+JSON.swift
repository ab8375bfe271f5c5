extension Value {
  /// JSON text: compact on one line, or pretty with `indent` spaces. Keys keep insertion order.
  /// Durations are nanoseconds and sizes bytes, as integers; datetimes ISO 8601 strings (UTC).
  public func toJSON(indent: Int? = nil) -> String {
    var out = ""
    writeJSON(into: &out, indent: indent, level: 0)
    return out
  }

  private func writeJSON(into out: inout String, indent: Int?, level: Int) {
    func newline(_ l: Int) {
      if let indent {
        out += "\n"
        out += String(repeating: " ", count: indent * l)
      }
    }
    switch kind {
    case .null, .closure: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .float(let d): out += d.isFinite ? Value.formatFloat(d) : "null"
    case .string(let s): Value.writeJSONString(s, into: &out)
    case .duration(let d): out += String(d)
    case .size(let s): out += String(s)
    case .datetime(let t): Value.writeJSONString(DateTime.iso(t), into: &out)
    case .bytes(let b): Value.writeJSONString(String(decoding: b, as: UTF8.self), into: &out)
    case .range:
      let items = (try? asList()) ?? []
      Value.list(items).writeJSON(into: &out, indent: indent, level: level)
    case .list(let items):
      if items.isEmpty { out += "[]"; return }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += indent == nil ? "," : "," }
        newline(level + 1)
        item.writeJSON(into: &out, indent: indent, level: level + 1)
      }
      newline(level)
      out += "]"
    case .record, .object:
      let r = recordValue!
      if r.isEmpty { out += "{}"; return }
      out += "{"
      for (i, (k, v)) in r.enumerated() {
        if i > 0 { out += "," }
        newline(level + 1)
        Value.writeJSONString(k, into: &out)
        out += indent == nil ? ":" : ": "
        v.writeJSON(into: &out, indent: indent, level: level + 1)
      }
      newline(level)
      out += "}"
    }
  }

  static func writeJSONString(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if u.value < 0x20 {
          let hex = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}

/// A JSON reader that keeps object keys in order and reports errors with a line and column.
struct JSONReader {
  let bytes: [UInt8]
  var i = 0
  let span: Span
  var depth = 0
  /// The keys of the last object read at each depth: the next one there usually has the same
  /// (an array of like objects), and then shares that array instead of building its own.
  var shapes: [[String]] = []

  init(_ text: String, span: Span) {
    self.bytes = Array(text.utf8)
    self.span = span
  }

  static func parse(_ text: String, span: Span) throws -> Value {
    var r = JSONReader(text, span: span)
    r.skipSpace()
    let v = try r.value()
    r.skipSpace()
    guard r.i == r.bytes.count else { throw r.fail("unexpected text after the JSON value") }
    return v
  }

  func fail(_ why: String) -> ShellError {
    var line = 1, col = 1
    for b in bytes[..<min(i, bytes.count)] {
      if b == 0x0A { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 }
    }
    return ShellError(.formatJson, "invalid JSON at line \(line), column \(col): \(why)", at: span)
  }

  mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
  }

  mutating func value() throws -> Value {
    guard i < bytes.count else { throw fail("unexpected end of input") }
    switch bytes[i] {
    case 0x7B:
      depth += 1
      guard depth < 512 else { throw fail("nesting too deep") }
      defer { depth -= 1 }
      i += 1
      // Keys that follow the last object's at this depth (distinct, so no search for repeats)
      // are only counted; the first that differs starts this object's own key list.
      if shapes.count < depth { shapes.append(contentsOf: repeatElement([], count: depth - shapes.count)) }
      let shape = shapes[depth - 1]
      var matched = 0
      var keys: [String]? = nil
      var values: [Value] = []
      values.reserveCapacity(shape.count)
      skipSpace()
      if i < bytes.count, bytes[i] == 0x7D { i += 1; return .record(Record(), span) }
      while true {
        skipSpace()
        guard i < bytes.count, bytes[i] == 0x22 else { throw fail("expected a string key") }
        let k = try string()
        skipSpace()
        guard i < bytes.count, bytes[i] == 0x3A else { throw fail("expected `:`") }
        i += 1
        skipSpace()
        let v = try value()
        if keys == nil, matched < shape.count, shape[matched] == k {
          values.append(v)
          matched += 1
        } else {
          if keys == nil { keys = Array(shape[..<matched]) }
          // A repeated key keeps its first place and takes the later value.
          if let j = keys!.firstIndex(of: k) { values[j] = v } else {
            keys!.append(k)
            values.append(v)
          }
        }
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end of input") }
        if bytes[i] == 0x2C { i += 1; continue }
        if bytes[i] == 0x7D {
          i += 1
          let final = keys ?? (matched == shape.count ? shape : Array(shape[..<matched]))
          shapes[depth - 1] = final
          return .record(Record(distinctKeys: final, values: values), span)
        }
        throw fail("expected `,` or `}`")
      }
    case 0x5B:
      depth += 1
      guard depth < 512 else { throw fail("nesting too deep") }
      defer { depth -= 1 }
      i += 1
      var items: [Value] = []
      skipSpace()
      if i < bytes.count, bytes[i] == 0x5D { i += 1; return .list(items, span) }
      while true {
        skipSpace()
        items.append(try value())
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end of input") }
        if bytes[i] == 0x2C { i += 1; continue }
        if bytes[i] == 0x5D { i += 1; return .list(items, span) }
        throw fail("expected `,` or `]`")
      }
    case 0x22: return .string(try string(), span)
    case 0x74: try word("true"); return .bool(true, span)
    case 0x66: try word("false"); return .bool(false, span)
    case 0x6E: try word("null"); return Value(.null, span)
    default: return try number()
    }
  }

  mutating func word(_ w: String) throws {
    let u = Array(w.utf8)
    guard i + u.count <= bytes.count, Array(bytes[i..<i + u.count]) == u else { throw fail("unexpected character") }
    i += u.count
  }

  mutating func number() throws -> Value {
    let start = i
    var isFloat = false
    if i < bytes.count, bytes[i] == 0x2D { i += 1 }
    while i < bytes.count {
      let b = bytes[i]
      if isDigit(b) { i += 1 } else if b == 0x2E || b == 0x65 || b == 0x45 || b == 0x2B || b == 0x2D {
        isFloat = true
        i += 1
      } else { break }
    }
    if !isFloat, let v = Self.integer(bytes[start..<i]) { return .int(v, span) }
    let text = String(decoding: bytes[start..<i], as: UTF8.self)
    guard !text.isEmpty, text != "-" else { throw fail("unexpected character") }
    if !isFloat, let v = Int64(text) { return .int(v, span) }
    guard let d = Double(text) else { throw fail("malformed number `\(text)`") }
    return .float(d, span)
  }

  /// An integer of up to 18 digits, read from its bytes (what `Int64(String)` would give,
  /// without making the string); nil for anything else.
  @inline(__always) static func integer(_ digits: ArraySlice<UInt8>) -> Int64? {
    var j = digits.startIndex
    let negative = j < digits.endIndex && digits[j] == 0x2D
    if negative { j += 1 }
    let count = digits.endIndex - j
    guard count > 0, count <= 18 else { return nil }
    var v: Int64 = 0
    while j < digits.endIndex {
      v = v * 10 + Int64(digits[j] &- 0x30)
      j += 1
    }
    return negative ? -v : v
  }

  mutating func string() throws -> String {
    i += 1
    // Most strings have no escape: made straight from their bytes.
    let start = i
    while i < bytes.count, bytes[i] != 0x22, bytes[i] != 0x5C { i += 1 }
    if i < bytes.count, bytes[i] == 0x22 {
      i += 1
      return String(decoding: bytes[start..<i - 1], as: UTF8.self)
    }
    var out = Array(bytes[start..<i])
    while true {
      guard i < bytes.count else { throw fail("unterminated string") }
      let b = bytes[i]
      if b == 0x22 { i += 1; break }
      if b == 0x5C {
        guard i + 1 < bytes.count else { throw fail("unterminated string") }
        let e = bytes[i + 1]
        i += 2
        switch e {
        case 0x6E: out.append(0x0A)
        case 0x74: out.append(0x09)
        case 0x72: out.append(0x0D)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0C)
        case 0x2F, 0x5C, 0x22: out.append(e)
        case 0x75:
          var code = try hex4()
          if code >= 0xD800, code < 0xDC00, i + 1 < bytes.count, bytes[i] == 0x5C, bytes[i + 1] == 0x75 {
            i += 2
            let low = try hex4()
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          }
          let scalar = UnicodeScalar(code) ?? "\u{FFFD}"
          out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default: throw fail("unknown escape")
        }
        continue
      }
      out.append(b)
      i += 1
    }
    return String(decoding: out, as: UTF8.self)
  }

  mutating func hex4() throws -> UInt32 {
    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
      throw fail("bad \\u escape")
    }
    i += 4
    return v
  }
}

extension Value {
  /// Parses JSON text into a value (objects become records with their key order kept).
  public static func fromJSON(_ text: String, span: Span = .unknown) throws -> Value {
    try JSONReader.parse(text, span: span)
  }
}
