import Glibc

/// Which of a process's output streams a logged line came from.
public enum LogStream: String, Sendable, CaseIterable {
  case stdout, stderr
}

/// One line of a container process's log, as xcd writes it and xcsh reads it (docs/ipc.md,
/// `xcsh.logs`). On disk a record is one text line, the CRI log format Kubernetes uses:
///
///     2026-12-06T20:20:21.123456789Z stderr F the line's bytes, unescaped
///
/// the time in UTC with nine fraction digits, the stream, `F` for a full line (a newline ended
/// it) or `P` for a piece (a line longer than the writer's buffer, or the output's unterminated
/// end), then the bytes as written minus the newline. A line holds no newline, so records need
/// no escaping and any bytes (not only UTF-8) survive.
public struct LogRecord: Equatable, Sendable {
  /// Nanoseconds since the Unix epoch, when the writer read the bytes.
  public var time: Int64
  public var stream: LogStream
  /// True when no newline ended these bytes (more of the same line may follow).
  public var partial: Bool
  /// The bytes, without the newline.
  public var line: [UInt8]

  public init(time: Int64, stream: LogStream, partial: Bool = false, line: [UInt8]) {
    self.time = time
    self.stream = stream
    self.partial = partial
    self.line = line
  }

  /// The record's text line, newline included.
  public func encoded() -> [UInt8] {
    var out = LogRecord.timestamp(time)
    out.reserveCapacity(out.count + line.count + 11)
    out.append(0x20)
    out += Array(stream.rawValue.utf8)
    out += partial ? [0x20, UInt8(ascii: "P"), 0x20] : [0x20, UInt8(ascii: "F"), 0x20]
    out += line
    out.append(0x0A)
    return out
  }

  /// Parses one record line (without its newline); nil when it is not one.
  public static func decode(_ text: ArraySlice<UInt8>) -> LogRecord? {
    let start = text.startIndex
    guard text.count >= timestampWidth + 10, let time = parseTimestamp(text[start..<(start + timestampWidth)]),
      text[start + timestampWidth] == 0x20
    else { return nil }
    let rest = text[(start + timestampWidth + 1)...]
    let stream: LogStream
    if rest.starts(with: "stdout ".utf8) {
      stream = .stdout
    } else if rest.starts(with: "stderr ".utf8) {
      stream = .stderr
    } else {
      return nil
    }
    let tag = rest.startIndex + 7
    guard tag + 1 < rest.endIndex, rest[tag + 1] == 0x20, rest[tag] == UInt8(ascii: "F") || rest[tag] == UInt8(ascii: "P")
    else { return nil }
    return LogRecord(time: time, stream: stream, partial: rest[tag] == UInt8(ascii: "P"), line: Array(rest[(tag + 2)...]))
  }

  /// `2026-12-06T20:20:21.123456789Z`: fixed width, so files sort and parse without a scan.
  static let timestampWidth = 30

  /// The fixed-width UTC timestamp of `ns`.
  public static func timestamp(_ ns: Int64) -> [UInt8] {
    var seconds = time_t(ns / 1_000_000_000)
    var fraction = ns % 1_000_000_000
    if fraction < 0 {
      seconds -= 1
      fraction += 1_000_000_000
    }
    var parts = tm()
    gmtime_r(&seconds, &parts)
    var out: [UInt8] = []
    out.reserveCapacity(timestampWidth + 1)
    func digits(_ value: Int, _ width: Int) {
      var v = value
      var d = [UInt8](repeating: 0x30, count: width)
      for i in stride(from: width - 1, through: 0, by: -1) {
        d[i] = UInt8(0x30 + v % 10)
        v /= 10
      }
      out += d
    }
    digits(Int(parts.tm_year) + 1900, 4)
    out.append(UInt8(ascii: "-"))
    digits(Int(parts.tm_mon) + 1, 2)
    out.append(UInt8(ascii: "-"))
    digits(Int(parts.tm_mday), 2)
    out.append(UInt8(ascii: "T"))
    digits(Int(parts.tm_hour), 2)
    out.append(UInt8(ascii: ":"))
    digits(Int(parts.tm_min), 2)
    out.append(UInt8(ascii: ":"))
    digits(Int(parts.tm_sec), 2)
    out.append(UInt8(ascii: "."))
    digits(Int(fraction), 9)
    out.append(UInt8(ascii: "Z"))
    return out
  }

  /// The instant of a fixed-width timestamp, or nil.
  static func parseTimestamp(_ t: ArraySlice<UInt8>) -> Int64? {
    let c = Array(t)
    guard c.count == timestampWidth, c[4] == 0x2D, c[7] == 0x2D, c[10] == UInt8(ascii: "T"), c[13] == 0x3A,
      c[16] == 0x3A, c[19] == 0x2E, c[29] == UInt8(ascii: "Z")
    else { return nil }
    func number(_ from: Int, _ width: Int) -> Int? {
      var n = 0
      for k in from..<(from + width) {
        guard c[k] >= 0x30, c[k] <= 0x39 else { return nil }
        n = n * 10 + Int(c[k] - 0x30)
      }
      return n
    }
    guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
      let minute = number(14, 2), let second = number(17, 2), let fraction = number(20, 9),
      (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var parts = tm()
    parts.tm_year = Int32(year - 1900)
    parts.tm_mon = Int32(month - 1)
    parts.tm_mday = Int32(day)
    parts.tm_hour = Int32(hour)
    parts.tm_min = Int32(minute)
    parts.tm_sec = Int32(second)
    return Int64(timegm(&parts)) * 1_000_000_000 + Int64(fraction)
  }
}

/// A log file of `LogRecord`s: the header line that marks the format, then one record per line.
/// A file without the header is a log written before records existed (raw bytes of both
/// streams, interleaved), which readers still show as text.
public enum LogRecordFile {
  /// The first line of every record log (kept when the file is trimmed).
  public static let header: [UInt8] = Array("#xcsh-log 1 (time stream F|P line)\n".utf8)

  /// Whether `bytes` (a file's start) is a record log.
  public static func isRecordLog(_ bytes: some Collection<UInt8>) -> Bool {
    bytes.starts(with: header)
  }

  /// The records of a whole record log's bytes (header included or not), and the bytes after
  /// the last newline (a record still being written). Lines that are not records are skipped:
  /// the writer never makes them, and a reader must not stop at a damaged line.
  public static func records(_ bytes: [UInt8]) -> (records: [LogRecord], rest: [UInt8]) {
    var out: [LogRecord] = []
    var start = isRecordLog(bytes) ? header.count : 0
    while let newline = bytes[start...].firstIndex(of: 0x0A) {
      if let r = LogRecord.decode(bytes[start..<newline]) { out.append(r) }
      start = newline + 1
    }
    return (out, Array(bytes[start...]))
  }
}
