/// A value of the language, with the span of the text or command that produced it.
///
/// `==` compares kinds only; spans are there for diagnostics.
public struct Value: Sendable, Equatable {
  public enum Kind: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    /// Boxed, as objects are: a two-word payload would double every value's size.
    indirect case string(String)
    /// Nanoseconds.
    case duration(Int64)
    /// Bytes.
    case size(Int64)
    /// An instant: nanoseconds since the Unix epoch (UTC).
    case datetime(Int64)
    case list([Value])
    /// One word (see `Record`): not boxed, so one moved out of a variable changes in place.
    case record(Record)
    /// Boxed: a range is bigger than the other payloads and would make every value larger.
    indirect case range(RangeValue)
    case closure(Closure)
    case bytes([UInt8])
    /// A container, image, network or volume: a record tagged with its type.
    indirect case object(ObjectValue)
  }

  public var kind: Kind
  public var span: Span

  @inline(__always) public init(_ kind: Kind, _ span: Span = .unknown) {
    self.kind = kind
    self.span = span
  }

  public static func == (a: Value, b: Value) -> Bool { a.kind == b.kind }

  // MARK: - Convenience constructors

  public static let null = Value(.null)
  public static func bool(_ b: Bool, _ span: Span = .unknown) -> Value { Value(.bool(b), span) }
  public static func int(_ i: Int64, _ span: Span = .unknown) -> Value { Value(.int(i), span) }
  public static func int(_ i: Int, _ span: Span = .unknown) -> Value { Value(.int(Int64(i)), span) }
  public static func float(_ d: Double, _ span: Span = .unknown) -> Value { Value(.float(d), span) }
  public static func string(_ s: String, _ span: Span = .unknown) -> Value { Value(.string(s), span) }
  public static func list(_ l: [Value], _ span: Span = .unknown) -> Value { Value(.list(l), span) }
  public static func record(_ r: Record, _ span: Span = .unknown) -> Value { Value(.record(r), span) }

  public var isNull: Bool { if case .null = kind { true } else { false } }

  /// The fields of a record or an object.
  public var recordValue: Record? {
    switch kind {
    case .record(let r): r
    case .object(let o): o.fields
    default: nil
    }
  }
}

extension Value.Kind: Equatable {
  public static func == (a: Value.Kind, b: Value.Kind) -> Bool {
    switch (a, b) {
    case (.null, .null): true
    case (.bool(let x), .bool(let y)): x == y
    case (.int(let x), .int(let y)): x == y
    case (.float(let x), .float(let y)): x == y
    case (.int(let x), .float(let y)), (.float(let y), .int(let x)): Double(x) == y
    case (.string(let x), .string(let y)): x == y
    case (.duration(let x), .duration(let y)): x == y
    case (.size(let x), .size(let y)): x == y
    case (.datetime(let x), .datetime(let y)): x == y
    case (.list(let x), .list(let y)): x == y
    case (.record(let x), .record(let y)): x == y
    case (.range(let x), .range(let y)): x == y
    case (.closure(let x), .closure(let y)): x === y
    case (.bytes(let x), .bytes(let y)): x == y
    case (.object(let x), .object(let y)): x == y
    default: false
    }
  }
}

/// An integer range: `1..5` (inclusive), `0..<n`, `1..` (open), with an optional step.
public struct RangeValue: Sendable, Equatable {
  public var start: Int64
  /// `nil` for an open range.
  public var end: Int64?
  public var inclusive: Bool
  public var step: Int64

  public init(start: Int64, end: Int64?, inclusive: Bool, step: Int64 = 1) {
    self.start = start
    self.end = end
    self.inclusive = inclusive
    self.step = step
  }

  /// The number of elements, or nil when open or too many to count in an Int64.
  public var count: Int64? {
    guard let end else { return nil }
    let last = inclusive ? end : (step > 0 ? end &- 1 : end &+ 1)
    if step > 0 ? last < start : last > start { return 0 }
    let span = step > 0 ? last.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(last)
    guard !span.overflow else { return nil }
    let n = (span.partialValue / step.magnitude.toInt64).addingReportingOverflow(1)
    return n.overflow ? nil : n.partialValue
  }

  public func contains(_ v: Int64) -> Bool {
    if step > 0 {
      guard v >= start else { return false }
      if let end { if inclusive ? v > end : v >= end { return false } }
    } else {
      guard v <= start else { return false }
      if let end { if inclusive ? v < end : v <= end { return false } }
    }
    return (v - start) % step == 0
  }
}

/// A daemon object: its type and the fields of the daemon's record.
public struct ObjectValue: Sendable, Equatable {
  public var type: ObjectType
  public var fields: Record
  /// Made by a command that changes state (`create`, `run -d`, `wait`, `… ensure`): a terminal
  /// shows it as one line; pipes, `let`, `get` and `--json` see every field. Not part of `==`.
  public var brief = false
  public init(type: ObjectType, fields: Record) {
    self.type = type
    self.fields = fields
  }
  public static func == (a: ObjectValue, b: ObjectValue) -> Bool { a.type == b.type && a.fields == b.fields }
}

extension UInt64 {
  /// The value as an Int64, saturating.
  var toInt64: Int64 { self > UInt64(Int64.max) ? Int64.max : Int64(self) }
}
