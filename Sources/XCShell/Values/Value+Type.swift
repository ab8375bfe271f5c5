extension Value {
  /// The type name shown by `describe` and in errors.
  public var typeName: String {
    switch kind {
    case .null: "null"
    case .bool: "bool"
    case .int: "int"
    case .float: "float"
    case .string: "string"
    case .duration: "duration"
    case .size: "size"
    case .datetime: "datetime"
    case .list(let items):
      if !items.isEmpty, items.allSatisfy({ $0.recordValue != nil }) { "table" } else {
        "list<\(Value.commonType(items))>"
      }
    case .record: "record"
    case .range: "range"
    case .closure: "closure"
    case .bytes: "bytes"
    case .object(let o): o.type.rawValue
    }
  }

  static func commonType(_ items: [Value]) -> String {
    guard let first = items.first else { return "any" }
    let t = first.typeName
    return items.allSatisfy { $0.typeName == t } ? t : "any"
  }

  /// The type name with its article: "an int", "a string".
  public var typeNameWithArticle: String {
    let n = typeName
    return ("aeiou".contains(n.first ?? "x") ? "an " : "a ") + n
  }

  /// A short name for the kind, used in "expected X, found Y".
  public var kindName: String {
    switch kind {
    case .list: "list"
    default: typeName
    }
  }

  public func asString() throws -> String {
    switch kind {
    case .string(let s): return s
    case .int, .float, .bool: return plain
    default: throw ShellError.typeMismatch(expected: "string", found: self)
    }
  }

  public func asInt() throws -> Int64 {
    switch kind {
    case .int(let i): return i
    default: throw ShellError.typeMismatch(expected: "int", found: self)
    }
  }

  public func asDouble() throws -> Double {
    switch kind {
    case .int(let i): return Double(i)
    case .float(let d): return d
    default: throw ShellError.typeMismatch(expected: "number", found: self)
    }
  }

  public func asBool() throws -> Bool {
    guard case .bool(let b) = kind else { throw ShellError.typeMismatch(expected: "bool", found: self) }
    return b
  }

  /// The items of a list or range.
  public func asList() throws -> [Value] {
    switch kind {
    case .list(let l): return l
    case .range(let r):
      guard let n = r.count, n <= 100_000_000 else {
        throw ShellError(.valueRange, "range is too large to collect into a list", at: span)
      }
      var out: [Value] = []
      out.reserveCapacity(Int(n))
      var i = r.start
      for _ in 0..<n {
        out.append(.int(i, span))
        i += r.step
      }
      return out
    default: throw ShellError.typeMismatch(expected: "list", found: self)
    }
  }

  public func asRecord() throws -> Record {
    guard let r = recordValue else { throw ShellError.typeMismatch(expected: "record", found: self) }
    return r
  }

  /// Truthiness is strict: only booleans are conditions.
  public func condition(at span: Span) throws -> Bool {
    guard case .bool(let b) = kind else {
      throw ShellError(
        .typeCondition, "a condition must be a bool, found \(typeName)", at: span.isKnown ? span : self.span,
        note: typeName, help: "compare explicitly, e.g. `$x != null` or `($list | length) > 0`")
    }
    return b
  }

  public func with(span: Span) -> Value { Value(kind, span) }
}

extension ShellError {
  public static func typeMismatch(expected: String, found: Value, at span: Span? = nil) -> ShellError {
    ShellError(
      .typeMismatch, "expected \(expected), found \(found.typeName)",
      at: span ?? (found.span.isKnown ? found.span : nil), note: found.typeName)
  }
}
