import Foundation

/// Identifies one registered source text (a script file, a `-c` string, a typed line).
public struct SourceID: Hashable, Sendable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  /// Values built by commands rather than parsed from text.
  public static let synthetic = SourceID(rawValue: 0)
}

/// One source text with its UTF-8 bytes and line starts, so spans resolve to LINE:COL.
public final class Source: Sendable {
  public let id: SourceID
  public let name: String
  public let text: String
  public let bytes: [UInt8]
  /// Byte offset at which each line starts.
  let lineStarts: [Int]

  init(id: SourceID, name: String, text: String) {
    self.id = id
    self.name = name
    self.text = text
    self.bytes = Array(text.utf8)
    var starts = [0]
    for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
    self.lineStarts = starts
  }

  /// 1-based line and column (columns count Unicode scalars, as editors do) of a byte offset.
  public func location(of offset: Int) -> (line: Int, column: Int) {
    let offset = max(0, min(offset, bytes.count))
    var lo = 0, hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
    }
    let start = lineStarts[lo]
    var column = 1
    var i = start
    while i < offset {
      // Count scalars: skip UTF-8 continuation bytes.
      if bytes[i] & 0xC0 != 0x80 { column += 1 }
      i += 1
    }
    return (lo + 1, column)
  }

  /// The text of a 1-based line, without its newline.
  public func line(_ number: Int) -> String {
    guard number >= 1, number <= lineStarts.count else { return "" }
    let start = lineStarts[number - 1]
    var end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
    if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
  }

  /// The text a span covers.
  public func text(of span: Span) -> String {
    let s = Int(span.start), e = min(Int(span.end), bytes.count)
    guard s < e else { return "" }
    return String(decoding: bytes[s..<e], as: UTF8.self)
  }
}

/// Every source seen by this process, so any span can be resolved when an error is shown.
public final class SourceMap: @unchecked Sendable {
  public static let shared = SourceMap()
  private let lock = NSLock()
  private var sources: [Source] = []

  /// Registers a text and returns its source.
  public func add(name: String, text: String) -> Source {
    lock.lock()
    defer { lock.unlock() }
    let source = Source(id: SourceID(rawValue: UInt32(sources.count + 1)), name: name, text: text)
    sources.append(source)
    return source
  }

  public func source(_ id: SourceID) -> Source? {
    lock.lock()
    defer { lock.unlock() }
    let i = Int(id.rawValue) - 1
    return i >= 0 && i < sources.count ? sources[i] : nil
  }
}
