/// What flows between pipeline stages: nothing, one value, a lazy stream of values, or bytes.
public enum Pipe: Sendable {
  case empty
  case value(Value)
  case stream(ValueStream)
  case bytes(ByteStream)

  /// Collects the input into one value: a stream becomes a list, bytes become a string.
  public func collect() throws -> Value {
    switch self {
    case .empty: return .null
    case .value(let v): return v
    case .stream(let s):
      var out: [Value] = []
      while let v = try s.next() { out.append(v) }
      return .list(out, s.span)
    case .bytes(let b): return .string(try b.readAllString(), b.span)
    }
  }

  /// Collects the input as data: like `collect`, but an external command's bytes become a list of
  /// their lines (what list commands like `sort`, `get 0` and `to json` take).
  public func collectItems() throws -> Value {
    guard case .bytes(let b) = self else { return try collect() }
    let lines = b.lines()
    var out: [Value] = []
    while let v = try lines.next() { out.append(v) }
    return .list(out, b.span)
  }

  /// Iterates the input as a sequence of values: a list or range yields its items, a stream its
  /// values, bytes their lines, a single value itself.
  public func values() throws -> ValueStream {
    switch self {
    case .empty: return ValueStream.of([])
    case .value(let v): return try ValueStream.iterate(v)
    case .stream(let s): return s
    case .bytes(let b): return b.lines()
    }
  }

  public var isEmpty: Bool { if case .empty = self { true } else { false } }
}

/// A pull-based stream: `next()` produces the next value, or nil at the end.
///
/// Producers run only as far as consumers pull, so `1..1000000000 | each {…} | first 3` stops early.
public final class ValueStream: @unchecked Sendable {
  private let producer: () throws -> Value?
  public let span: Span

  public init(span: Span = .unknown, _ producer: @escaping () throws -> Value?) {
    self.producer = producer
    self.span = span
  }

  @inline(__always) public func next() throws -> Value? { try producer() }

  public static func of(_ values: [Value], span: Span = .unknown) -> ValueStream {
    var i = 0
    return ValueStream(span: span) {
      guard i < values.count else { return nil }
      defer { i += 1 }
      return values[i]
    }
  }

  /// The items of a list or range; any other value as a one-item stream.
  public static func iterate(_ v: Value) throws -> ValueStream {
    switch v.kind {
    case .list(let items): return of(items, span: v.span)
    case .range(let r):
      var cur = r.start
      var done = r.count == 0
      let span = v.span
      return ValueStream(span: span) {
        guard !done else { return nil }
        let out = cur
        if let end = r.end {
          let next = cur.addingReportingOverflow(r.step)
          if next.overflow { done = true } else { cur = next.partialValue }
          if r.step > 0 ? (r.inclusive ? cur > end : cur >= end) : (r.inclusive ? cur < end : cur <= end) {
            done = true
          }
        } else {
          let next = cur.addingReportingOverflow(r.step)
          if next.overflow { done = true } else { cur = next.partialValue }
        }
        return .int(out, span)
      }
    case .null: return of([])
    default: return of([v])
    }
  }

  public func map(_ f: @escaping (Value) throws -> Value) -> ValueStream {
    ValueStream(span: span) { try self.next().map(f) }
  }

  /// The values for which `keep` holds, lazily.
  public func filter(span: Span, _ keep: @escaping (Value) throws -> Bool) -> ValueStream {
    ValueStream(span: span) {
      while let v = try self.next() { if try keep(v) { return v } }
      return nil
    }
  }
}

/// Bytes from an external command or a file, read in chunks as consumers pull.
public final class ByteStream: @unchecked Sendable {
  /// Returns the next chunk, or nil at the end.
  private let reader: () throws -> [UInt8]?
  /// Runs once after the last chunk (waits for the process and raises its failure).
  private var finisher: (() throws -> Void)?
  public let span: Span
  private var pending: [UInt8] = []
  private var finished = false

  public init(span: Span, reader: @escaping () throws -> [UInt8]?, finisher: (() throws -> Void)? = nil) {
    self.span = span
    self.reader = reader
    self.finisher = finisher
  }

  /// The next chunk of bytes, or nil at the end (after the finisher has run).
  public func nextChunk() throws -> [UInt8]? {
    if !pending.isEmpty {
      defer { pending = [] }
      return pending
    }
    guard !finished else { return nil }
    if let chunk = try reader() { return chunk }
    finished = true
    let f = finisher
    finisher = nil
    try f?()
    return nil
  }

  public func readAll() throws -> [UInt8] {
    var out: [UInt8] = []
    while let c = try nextChunk() { out.append(contentsOf: c) }
    return out
  }

  /// All the bytes as text, without one trailing newline (as `$(cmd)` in POSIX shells).
  public func readAllString() throws -> String {
    var bytes = try readAll()
    if bytes.last == 0x0A { bytes.removeLast() }
    if bytes.last == 0x0D { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The bytes as a stream of lines (without their newlines).
  public func lines() -> ValueStream {
    var buffer: [UInt8] = []
    var start = 0
    var eof = false
    let span = self.span
    return ValueStream(span: span) {
      while true {
        if let nl = buffer[start...].firstIndex(of: 0x0A) {
          var end = nl
          if end > start, buffer[end - 1] == 0x0D { end -= 1 }
          let line = String(decoding: buffer[start..<end], as: UTF8.self)
          start = nl + 1
          if start > 65536 {
            buffer.removeFirst(start)
            start = 0
          }
          return .string(line, span)
        }
        if eof {
          guard start < buffer.count else { return nil }
          let line = String(decoding: buffer[start...], as: UTF8.self)
          start = buffer.count
          return .string(line, span)
        }
        if let chunk = try self.nextChunk() { buffer.append(contentsOf: chunk) } else { eof = true }
      }
    }
  }
}
