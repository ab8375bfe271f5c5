import Foundation

/// The `datetime` value: an instant as nanoseconds since the Unix epoch, shown in UTC as ISO
/// 8601 (`2026-12-06T17:34:31Z`, with the fraction of a second only when there is one).
public enum DateTime {
  static let nanosPerSecond: Int64 = 1_000_000_000

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
  static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The date of a day count since 1970-01-01 (`civil_from_days`).
  static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  /// The broken-down UTC time of an instant.
  public struct Parts: Equatable, Sendable {
    public var year, month, day, hour, minute, second, nanosecond: Int64
  }

  static func parts(_ ns: Int64) -> Parts {
    let seconds = ns >= 0 ? ns / nanosPerSecond : (ns - nanosPerSecond + 1) / nanosPerSecond
    let fraction = ns - seconds * nanosPerSecond
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let inDay = seconds - days * 86_400
    let (y, m, d) = civil(days)
    return Parts(year: y, month: m, day: d, hour: inDay / 3600, minute: inDay / 60 % 60, second: inDay % 60, nanosecond: fraction)
  }

  static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

  /// ISO 8601 in UTC; the fraction has 3, 6 or 9 digits, and only when it is not zero.
  public static func iso(_ ns: Int64) -> String {
    let p = parts(ns)
    let year = p.year >= 0 && p.year < 10000 ? String(repeating: "0", count: 4 - String(p.year).count) + String(p.year) : String(p.year)
    var s = "\(year)-\(two(p.month))-\(two(p.day))T\(two(p.hour)):\(two(p.minute)):\(two(p.second))"
    if p.nanosecond != 0 {
      var digits = String(p.nanosecond)
      digits = String(repeating: "0", count: 9 - digits.count) + digits
      while digits.count > 3, digits.hasSuffix("000") { digits.removeLast(3) }
      s += "." + digits
    }
    return s + "Z"
  }

  /// Parses ISO 8601 / RFC 3339: `2026-12-06`, `2026-12-06T17:34`, `2026-12-06 17:34:31.5`,
  /// each optionally followed by `Z` or an offset `+02:00` / `-0500` (none means UTC).
  public static func parse(_ text: String) -> Int64? {
    let c = Array(text.utf8)
    var i = 0
    func number(_ width: Int) -> Int64? {
      guard i + width <= c.count else { return nil }
      var n: Int64 = 0
      for k in i..<(i + width) {
        guard c[k] >= 48, c[k] <= 57 else { return nil }
        n = n * 10 + Int64(c[k] - 48)
      }
      i += width
      return n
    }
    func expect(_ ch: UInt8) -> Bool {
      guard i < c.count, c[i] == ch else { return false }
      i += 1
      return true
    }
    guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
      (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    var hour: Int64 = 0
    var minute: Int64 = 0
    var second: Int64 = 0
    var fraction: Int64 = 0
    if i < c.count, c[i] == UInt8(ascii: "T") || c[i] == UInt8(ascii: "t") || c[i] == 32 {
      i += 1
      guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
      (hour, minute) = (h, m)
      if expect(58) {
        guard let s = number(2), s < 61 else { return nil }
        second = min(s, 59)
        if expect(46) || expect(44) {
          var digits = 0
          while i < c.count, c[i] >= 48, c[i] <= 57 {
            if digits < 9 { fraction = fraction * 10 + Int64(c[i] - 48) }
            digits += 1
            i += 1
          }
          guard digits > 0 else { return nil }
          for _ in min(digits, 9)..<9 { fraction *= 10 }
        }
      }
    }
    var offset: Int64 = 0
    if i < c.count {
      if c[i] == UInt8(ascii: "Z") || c[i] == UInt8(ascii: "z") {
        i += 1
      } else if c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
        let sign: Int64 = c[i] == UInt8(ascii: "+") ? 1 : -1
        i += 1
        guard let oh = number(2) else { return nil }
        _ = expect(58)
        guard let om = number(2), oh < 24, om < 60 else { return nil }
        offset = sign * (oh * 3600 + om * 60)
      }
    }
    guard i == c.count else { return nil }
    let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
    let (ns, overflow) = seconds.multipliedReportingOverflow(by: nanosPerSecond)
    guard !overflow else { return nil }
    return ns + fraction
  }

  /// `strftime`-style formatting in UTC: `%Y %m %d %H %M %S %f` (nanoseconds, 9 digits),
  /// `%3f` (milliseconds), `%s` (epoch seconds), `%j` (day of the year), `%F` (`%Y-%m-%d`),
  /// `%T` (`%H:%M:%S`), `%z` (`+0000`), `%%`. Nil for an unknown directive (named in `bad`).
  public static func format(_ ns: Int64, _ pattern: String, bad: inout String) -> String? {
    let p = parts(ns)
    var out = ""
    var chars = pattern.makeIterator()
    while let ch = chars.next() {
      guard ch == "%" else {
        out.append(ch)
        continue
      }
      guard var d = chars.next() else {
        bad = "%"
        return nil
      }
      var digits: Int?
      if let n = d.wholeNumberValue, (1...9).contains(n), let next = chars.next() {
        digits = n
        d = next
      }
      switch d {
      case "Y": out += String(p.year)
      case "m": out += two(p.month)
      case "d": out += two(p.day)
      case "H": out += two(p.hour)
      case "M": out += two(p.minute)
      case "S": out += two(p.second)
      case "f":
        let nine = String(repeating: "0", count: 9 - String(p.nanosecond).count) + String(p.nanosecond)
        out += String(nine.prefix(digits ?? 9))
      case "s": out += String(ns >= 0 ? ns / nanosPerSecond : (ns - nanosPerSecond + 1) / nanosPerSecond)
      case "j":
        let doy = days(year: p.year, month: p.month, day: p.day) - days(year: p.year, month: 1, day: 1) + 1
        out += String(repeating: "0", count: 3 - String(doy).count) + String(doy)
      case "F": out += "\(p.year)-\(two(p.month))-\(two(p.day))"
      case "T": out += "\(two(p.hour)):\(two(p.minute)):\(two(p.second))"
      case "z": out += "+0000"
      case "Z": out += "UTC"
      case "%": out += "%"
      default:
        bad = "%" + (digits.map(String.init) ?? "") + String(d)
        return nil
      }
    }
    return out
  }

  /// How long ago `ns` was, relative to `now`, in the largest whole unit: `just now`,
  /// `42s ago`, `5m ago`, `3h ago`, `2d ago`; a future instant is `in 5m`.
  public static func age(_ ns: Int64, now: Int64) -> String {
    let delta = now - ns
    let seconds = abs(delta) / nanosPerSecond
    if seconds < 1 { return "just now" }
    let text: String
    switch seconds {
    case ..<60: text = "\(seconds)s"
    case ..<3600: text = "\(seconds / 60)m"
    case ..<86_400: text = "\(seconds / 3600)h"
    case ..<(86_400 * 365): text = "\(seconds / 86_400)d"
    default: text = "\(seconds / (86_400 * 365))y"
    }
    return delta >= 0 ? "\(text) ago" : "in \(text)"
  }

  /// The current time.
  public static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * nanosPerSecond + Int64(ts.tv_nsec)
  }
}
