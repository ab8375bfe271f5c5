import Foundation
import Glibc
import XCShell
import XCSystem

/// Which records of a log `logs` shows (`--since`, `--until`, `--stdout`, `--stderr`), how
/// pieces of a long line are joined back, and how a record is shown: as a line of text (with
/// `--timestamps`) or as a `{time, stream, line}` record.
struct LogSelection {
  var since: Int64?
  var until: Int64?
  var streams: Set<LogStream> = Set(LogStream.allCases)
  var timestamps = false

  /// Whether the selection needs per-line times or streams (which a log written before
  /// records existed lacks).
  var needsRecords: Bool { since != nil || until != nil || streams.count < LogStream.allCases.count || timestamps }

  func accepts(_ r: LogRecord) -> Bool {
    streams.contains(r.stream) && since.map { r.time >= $0 } ?? true && until.map { r.time < $0 } ?? true
  }

  /// The text of an entry: its bytes, its newline unless it is an unterminated end, and with
  /// `--timestamps` the time first (RFC 3339 with nanoseconds, as `docker logs -t`).
  func text(_ r: LogRecord) -> [UInt8] {
    var out = timestamps ? LogRecord.timestamp(r.time) + [0x20] : []
    out += r.line
    if !r.partial { out.append(0x0A) }
    return out
  }

  /// An entry as a shell record; a pty's `\r` before the newline is not part of the line.
  static func value(_ r: LogRecord, _ span: Span) -> Value {
    var line = r.line
    if line.last == 0x0D { line.removeLast() }
    return .record(
      Record([
        ("time", Value(.datetime(r.time), span)), ("stream", .string(r.stream.rawValue, span)),
        ("line", .string(String(decoding: line, as: UTF8.self), span)),
      ]), span)
  }

  /// `--since`/`--until`: a datetime, ISO 8601 text, or a duration before now (`10m`, or the
  /// text `1h30m` as Docker writes it).
  static func instant(_ v: Value, flag: String, at span: Span) throws -> Int64 {
    switch v.kind {
    case .datetime(let t): return t
    case .duration(let d): return now() - d
    case .string(let s):
      if let t = DateTime.parse(s) { return t }
      if let d = dockerDuration(s) { return now() - d }
    default: break
    }
    throw ShellError(
      .argsValue, "`--\(flag) \(v.plain)`: not a time", at: v.span.isKnown ? v.span : span,
      help: "a datetime (`2026-12-06T17:34:31Z`), or a duration before now (`10m`, `'1h30m'`)")
  }

  /// Nanoseconds of Go-style duration text (`1h30m`, `2.5s`, `300ms`); nil if it is not one.
  static func dockerDuration(_ text: String) -> Int64? {
    let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 6e10), ("h", 3.6e12)]
    var rest = Substring(text)
    var total = 0.0
    guard !rest.isEmpty else { return nil }
    while !rest.isEmpty {
      let number = rest.prefix { $0.isNumber || $0 == "." }
      guard let n = Double(number) else { return nil }
      rest = rest.dropFirst(number.count)
      guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(rest.hasPrefix("ms") && $0.0 == "m") }) else { return nil }
      total += n * unit.1
      rest = rest.dropFirst(unit.0.count)
    }
    return total < 9.2e18 ? Int64(total) : nil
  }

  /// The wall clock, in nanoseconds since the epoch (the records' clock).
  static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
  }
}

/// Joins the pieces (`P` records) of a long line back into one entry with the time of its first
/// piece. An unterminated end stays partial (shown without a newline).
struct LogJoiner {
  private var held: [LogStream: LogRecord] = [:]

  /// The entry `r` completes, or nil while its line goes on.
  mutating func add(_ r: LogRecord) -> LogRecord? {
    var entry = r
    if let first = held.removeValue(forKey: r.stream) {
      entry = first
      entry.line += r.line
      entry.partial = r.partial
    }
    if entry.partial {
      held[r.stream] = entry
      return nil
    }
    return entry
  }

  /// What is still held: the output's unterminated ends, in time order.
  mutating func finish() -> [LogRecord] {
    defer { held = [:] }
    return held.values.sorted { $0.time < $1.time }
  }

  /// Every entry of `records`.
  static func entries(_ records: [LogRecord]) -> [LogRecord] {
    var joiner = LogJoiner()
    var out = records.compactMap { joiner.add($0) }
    out += joiner.finish()
    return out.sorted { $0.time < $1.time }
  }
}
