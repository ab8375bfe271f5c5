import Foundation

/// Arithmetic, comparison and membership on values. Unlike types are an error, never a silent false.
enum Operators {
  static func operandError(_ op: String, _ l: Value, _ r: Value, at span: Span) -> ShellError {
    let verb = ["==", "!=", "<", "<=", ">", ">=", "sort"].contains(op) ? "compare" : "apply `\(op)` to"
    return ShellError(
      .typeOperands, "cannot \(verb) \(l.typeName) \(verb == "compare" ? "with" : "and") \(r.typeName)", at: span,
      help: l.typeName == "string" || r.typeName == "string"
        ? "convert first, e.g. `(\"5\" | into int)` or `($n | into string)`" : nil)
  }

  static func overflow(_ op: String, at span: Span) -> ShellError {
    ShellError(.mathOverflow, "integer overflow in `\(op)`", at: span)
  }

  static func negate(_ v: Value, at span: Span) throws -> Value {
    switch v.kind {
    case .int(let i):
      guard i != .min else { throw overflow("-", at: span) }
      return .int(-i, span)
    case .float(let d): return .float(-d, span)
    case .duration(let d): return Value(.duration(-d), span)
    case .size(let s): return Value(.size(-s), span)
    default: throw ShellError(.typeOperands, "cannot negate \(v.typeNameWithArticle)", at: span)
    }
  }

  static func binary(_ op: BinaryOp, _ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch op {
    case .add: return try add(l, r, at: span)
    case .subtract: return try subtract(l, r, at: span)
    case .multiply: return try multiply(l, r, at: span)
    case .divide: return try divide(l, r, at: span)
    case .floorDivide: return try floorDivide(l, r, at: span)
    case .remainder: return try remainder(l, r, at: span)
    case .power: return try power(l, r, at: span)
    case .concat: return try concat(l, r, at: span)
    case .equal: return .bool(try equal(l, r, "==", at: span), span)
    case .notEqual: return .bool(!(try equal(l, r, "!=", at: span)), span)
    case .less: return .bool(try compare(l, r, "<", at: span) < 0, span)
    case .lessEqual: return .bool(try compare(l, r, "<=", at: span) <= 0, span)
    case .greater: return .bool(try compare(l, r, ">", at: span) > 0, span)
    case .greaterEqual: return .bool(try compare(l, r, ">=", at: span) >= 0, span)
    case .matches: return .bool(try matches(l, r, at: span), span)
    case .notMatches: return .bool(!(try matches(l, r, at: span)), span)
    case .isIn: return .bool(try contains(r, l, "in", at: span), span)
    case .notIn: return .bool(!(try contains(r, l, "not-in", at: span)), span)
    case .has: return .bool(try contains(l, r, "has", at: span), span)
    case .notHas: return .bool(!(try contains(l, r, "not-has", at: span)), span)
    case .startsWith, .endsWith:
      guard case .string(let a) = l.kind, case .string(let b) = r.kind else { throw operandError(op.rawValue, l, r, at: span) }
      return .bool(op == .startsWith ? a.hasPrefix(b) : a.hasSuffix(b), span)
    case .xor:
      return .bool(try l.condition(at: span) != r.condition(at: span), span)
    case .and: return .bool(try l.condition(at: span) && r.condition(at: span), span)
    case .or: return .bool(try l.condition(at: span) || r.condition(at: span), span)
    }
  }

  /// Two ints: the common arithmetic and comparisons without the general dispatch. Nil when
  /// the general path must decide (overflow errors, division, other operators).
  @inline(__always) static func intFast(_ op: BinaryOp, _ a: Int64, _ b: Int64) -> Value.Kind? {
    switch op {
    case .add:
      let (r, o) = a.addingReportingOverflow(b)
      return o ? nil : .int(r)
    case .subtract:
      let (r, o) = a.subtractingReportingOverflow(b)
      return o ? nil : .int(r)
    case .multiply:
      let (r, o) = a.multipliedReportingOverflow(by: b)
      return o ? nil : .int(r)
    case .remainder:
      // Division by zero takes the slow path, which says so.
      guard b != 0 else { return nil }
      return .int(a == .min && b == -1 ? 0 : a % b)
    case .less: return .bool(a < b)
    case .lessEqual: return .bool(a <= b)
    case .greater: return .bool(a > b)
    case .greaterEqual: return .bool(a >= b)
    case .equal: return .bool(a == b)
    case .notEqual: return .bool(a != b)
    default: return nil
    }
  }

  @inline(__always) static func checked(_ r: (partialValue: Int64, overflow: Bool), _ op: String, _ span: Span) throws
    -> Int64
  {
    if r.overflow { throw overflow(op, at: span) }
    return r.partialValue
  }

  static func add(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)): return .int(try checked(a.addingReportingOverflow(b), "+", span), span)
    case (.int(let a), .float(let b)): return .float(Double(a) + b, span)
    case (.float(let a), .int(let b)): return .float(a + Double(b), span)
    case (.float(let a), .float(let b)): return .float(a + b, span)
    case (.duration(let a), .duration(let b)):
      return Value(.duration(try checked(a.addingReportingOverflow(b), "+", span)), span)
    case (.size(let a), .size(let b)): return Value(.size(try checked(a.addingReportingOverflow(b), "+", span)), span)
    case (.datetime(let t), .duration(let d)), (.duration(let d), .datetime(let t)):
      return Value(.datetime(try checked(t.addingReportingOverflow(d), "+", span)), span)
    case (.string(let a), .string(let b)): return .string(a + b, span)
    case (.list, _), (_, .list): return try concat(l, r, at: span)
    default: throw operandError("+", l, r, at: span)
    }
  }

  static func subtract(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)): return .int(try checked(a.subtractingReportingOverflow(b), "-", span), span)
    case (.int(let a), .float(let b)): return .float(Double(a) - b, span)
    case (.float(let a), .int(let b)): return .float(a - Double(b), span)
    case (.float(let a), .float(let b)): return .float(a - b, span)
    case (.duration(let a), .duration(let b)):
      return Value(.duration(try checked(a.subtractingReportingOverflow(b), "-", span)), span)
    case (.size(let a), .size(let b)):
      return Value(.size(try checked(a.subtractingReportingOverflow(b), "-", span)), span)
    case (.datetime(let t), .duration(let d)):
      return Value(.datetime(try checked(t.subtractingReportingOverflow(d), "-", span)), span)
    case (.datetime(let a), .datetime(let b)):
      return Value(.duration(try checked(a.subtractingReportingOverflow(b), "-", span)), span)
    default: throw operandError("-", l, r, at: span)
    }
  }

  static func multiply(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)): return .int(try checked(a.multipliedReportingOverflow(by: b), "*", span), span)
    case (.int(let a), .float(let b)): return .float(Double(a) * b, span)
    case (.float(let a), .int(let b)): return .float(a * Double(b), span)
    case (.float(let a), .float(let b)): return .float(a * b, span)
    case (.duration(let a), .int(let b)), (.int(let b), .duration(let a)):
      return Value(.duration(try checked(a.multipliedReportingOverflow(by: b), "*", span)), span)
    case (.duration(let a), .float(let b)), (.float(let b), .duration(let a)):
      return Value(.duration(try exactInt(Double(a) * b, "*", span)), span)
    case (.size(let a), .int(let b)), (.int(let b), .size(let a)):
      return Value(.size(try checked(a.multipliedReportingOverflow(by: b), "*", span)), span)
    case (.size(let a), .float(let b)), (.float(let b), .size(let a)):
      return Value(.size(try exactInt(Double(a) * b, "*", span)), span)
    case (.string(let s), .int(let n)) where n >= 0 && n < 10_000_000:
      return .string(String(repeating: s, count: Int(n)), span)
    default: throw operandError("*", l, r, at: span)
    }
  }

  /// A double rounded to an Int64, or an overflow error when it does not fit.
  static func exactInt(_ d: Double, _ op: String, _ span: Span) throws -> Int64 {
    let r = d.rounded()
    guard r.isFinite, r >= -9.2e18, r <= 9.2e18 else { throw overflow(op, at: span) }
    return Int64(r)
  }

  static func zero(_ span: Span) -> ShellError { ShellError(.mathDivisionByZero, "division by zero", at: span) }

  static func divide(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)):
      guard b != 0 else { throw zero(span) }
      // Exact quotients stay ints; `7 / 2` is 3.5.
      if a % b == 0, !(a == .min && b == -1) { return .int(a / b, span) }
      return .float(Double(a) / Double(b), span)
    case (.int, .float), (.float, .int), (.float, .float):
      let b = try r.asDouble()
      guard b != 0 else { throw zero(span) }
      return .float(try l.asDouble() / b, span)
    case (.duration(let a), .duration(let b)), (.size(let a), .size(let b)):
      guard b != 0 else { throw zero(span) }
      return a % b == 0 ? .int(a / b, span) : .float(Double(a) / Double(b), span)
    case (.duration(let a), .int(let b)):
      guard b != 0 else { throw zero(span) }
      return Value(.duration(a / b), span)
    case (.size(let a), .int(let b)):
      guard b != 0 else { throw zero(span) }
      return Value(.size(a / b), span)
    case (.duration(let a), .float(let b)):
      guard b != 0 else { throw zero(span) }
      return Value(.duration(try exactInt(Double(a) / b, "/", span)), span)
    case (.size(let a), .float(let b)):
      guard b != 0 else { throw zero(span) }
      return Value(.size(try exactInt(Double(a) / b, "/", span)), span)
    default: throw operandError("/", l, r, at: span)
    }
  }

  static func floorDivide(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)):
      guard b != 0 else { throw zero(span) }
      guard !(a == .min && b == -1) else { throw overflow("//", at: span) }
      let q = a / b
      return .int((a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q, span)
    case (.int, .float), (.float, .int), (.float, .float):
      let b = try r.asDouble()
      guard b != 0 else { throw zero(span) }
      return .float((try l.asDouble() / b).rounded(.down), span)
    default: throw operandError("//", l, r, at: span)
    }
  }

  static func remainder(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)):
      guard b != 0 else { throw zero(span) }
      guard !(a == .min && b == -1) else { return .int(0, span) }
      return .int(a % b, span)
    case (.int, .float), (.float, .int), (.float, .float):
      let b = try r.asDouble()
      guard b != 0 else { throw zero(span) }
      return .float(fmod(try l.asDouble(), b), span)
    default: throw operandError("%", l, r, at: span)
    }
  }

  static func power(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)) where b >= 0:
      var result: Int64 = 1
      var base = a
      var e = b
      while e > 0 {
        if e & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base), "**", span) }
        e >>= 1
        if e > 0 { base = try checked(base.multipliedReportingOverflow(by: base), "**", span) }
      }
      return .int(result, span)
    case (.int, .int), (.int, .float), (.float, .int), (.float, .float):
      return .float(pow(try l.asDouble(), try r.asDouble()), span)
    default: throw operandError("**", l, r, at: span)
    }
  }

  /// `x ++= y` and `x += y` on a list or string: appends in place, the same result as
  /// `x = x ++ y` without copying what `x` holds (building a list in a loop stays linear).
  /// False when the operands need the general operator.
  static func appendInPlace(_ op: BinaryOp, _ l: inout Value, _ r: Value, at span: Span) -> Bool {
    guard op == .concat || op == .add else { return false }
    // Matched on `l.kind` alone: a `(l.kind, r.kind)` tuple would hold a second reference to the
    // array for the whole case, so it was copied at every append (quadratic).
    if case .list(var a) = l.kind {
      // Drop the binding's reference first so the array is uniquely held and grows in place.
      l.kind = .null
      if case .list(let b) = r.kind { a.append(contentsOf: b) } else { a.append(r) }
      l = .list(a, span)
      return true
    }
    guard case .string(let b) = r.kind, case .string(var a) = l.kind else { return false }
    l.kind = .null
    a += b
    l = .string(a, span)
    return true
  }

  static func concat(_ l: Value, _ r: Value, at span: Span) throws -> Value {
    switch (l.kind, r.kind) {
    case (.string(let a), .string(let b)): return .string(a + b, span)
    case (.list(let a), .list(let b)): return .list(a + b, span)
    case (.list(let a), _): return .list(a + [r], span)
    case (_, .list(let b)): return .list([l] + b, span)
    default: throw operandError("++", l, r, at: span)
    }
  }

  /// Equality: `null` compares with anything; otherwise the types must match (ints and floats mix).
  static func equal(_ l: Value, _ r: Value, _ op: String, at span: Span) throws -> Bool {
    switch (l.kind, r.kind) {
    case (.null, _), (_, .null): return l.isNull && r.isNull
    case (.int, .float), (.float, .int): return l.kind == r.kind
    case (.object(let a), .object(let b)): return a == b
    case (.record, .record), (.object, .record), (.record, .object): return l.recordValue == r.recordValue
    default:
      guard sameKind(l, r) else { throw operandError(op, l, r, at: span) }
      return l.kind == r.kind
    }
  }

  static func sameKind(_ l: Value, _ r: Value) -> Bool {
    switch (l.kind, r.kind) {
    case (.bool, .bool), (.int, .int), (.float, .float), (.string, .string), (.duration, .duration), (.size, .size),
      (.datetime, .datetime),
      (.list, .list), (.record, .record), (.range, .range), (.closure, .closure), (.bytes, .bytes):
      true
    default: false
    }
  }

  /// Ordering for `<`, `sort` and `sort-by`: numbers, strings, durations, sizes, bools, lists.
  static func compare(_ l: Value, _ r: Value, _ op: String, at span: Span) throws -> Int {
    func cmp<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
    switch (l.kind, r.kind) {
    case (.int(let a), .int(let b)): return cmp(a, b)
    case (.int(let a), .float(let b)): return cmp(Double(a), b)
    case (.float(let a), .int(let b)): return cmp(a, Double(b))
    case (.float(let a), .float(let b)): return cmp(a, b)
    case (.string(let a), .string(let b)): return cmp(a, b)
    case (.duration(let a), .duration(let b)), (.size(let a), .size(let b)), (.datetime(let a), .datetime(let b)):
      return cmp(a, b)
    case (.bool(let a), .bool(let b)): return cmp(a ? 1 : 0, b ? 1 : 0)
    case (.list(let a), .list(let b)):
      for (x, y) in zip(a, b) {
        let c = try compare(x, y, op, at: span)
        if c != 0 { return c }
      }
      return cmp(a.count, b.count)
    default: throw operandError(op, l, r, at: span)
    }
  }

  /// Regular-expression match; patterns are compiled once and cached.
  static func matches(_ l: Value, _ r: Value, at span: Span) throws -> Bool {
    guard case .string(let s) = l.kind, case .string(let pattern) = r.kind else {
      throw operandError("=~", l, r, at: span)
    }
    let re = try Regex.compile(pattern, at: r.span.isKnown ? r.span : span)
    return re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
  }

  static func contains(_ container: Value, _ item: Value, _ op: String, at span: Span) throws -> Bool {
    switch container.kind {
    case .list(let items): return items.contains { $0 == item }
    case .range(let r):
      guard case .int(let i) = item.kind else { return false }
      return r.contains(i)
    case .string(let s):
      guard case .string(let sub) = item.kind else { throw operandError(op, item, container, at: span) }
      return sub.isEmpty || s.contains(sub)
    case .record, .object:
      let rec = container.recordValue!
      guard case .string(let k) = item.kind else { throw operandError(op, item, container, at: span) }
      return rec[k] != nil
    default: throw operandError(op, item, container, at: span)
    }
  }
}

/// Compiled regular expressions, cached by pattern.
enum Regex {
  nonisolated(unsafe) private static var cache: [String: NSRegularExpression] = [:]
  private static let lock = NSLock()

  static func compile(_ pattern: String, at span: Span) throws -> NSRegularExpression {
    lock.lock()
    defer { lock.unlock() }
    if let re = cache[pattern] { return re }
    do {
      // ICU rejects the empty pattern; it means "matches everywhere".
      let re = try NSRegularExpression(pattern: pattern.isEmpty ? "(?:)" : pattern)
      if cache.count > 256 { cache.removeAll() }
      cache[pattern] = re
      return re
    } catch {
      throw ShellError(.regexInvalid, "invalid regular expression `\(pattern)`", at: span)
    }
  }
}
