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

  /// A source with a new process-unique id. Register it in a `SourceMap` (the shell that runs
  /// it does) so that errors pointing into it can show its lines.
  public convenience init(name: String, text: String) {
    self.init(id: SourceID.next(), name: name, text: text)
  }

  /// A text lexed once and then dropped (`into duration`, an argument bound to a typed
  /// parameter): it gets no id and is registered nowhere, so converting in a loop keeps
  /// memory flat. Spans into it are unknown.
  static func transient(_ text: String) -> Source {
    Source(id: .synthetic, name: "<text>", text: text)
  }

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

extension SourceID {
  private static let counter = IDCounter()
  /// Ids are unique in the process, so sources made for one shell never collide with another's.
  static func next() -> SourceID { SourceID(rawValue: counter.next()) }
}

private final class IDCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var last: UInt32 = 0
  func next() -> UInt32 {
    lock.lock()
    defer { lock.unlock() }
    last &+= 1
    if last == 0 { last = 1 }  // 0 is `.synthetic`
    return last
  }
}

/// The sources one session has run (its scripts, lines, loaded files), so a span in any of them
/// resolves to FILE:LINE:COL when an error is shown. Each `Shell` owns one: it lives and dies
/// with the session, and nothing is registered for texts only converted (`into duration`).
public final class SourceMap: @unchecked Sendable {
  /// For tools and tests that lex or parse without a shell; a shell adopts any source it runs.
  public static let shared = SourceMap()
  private let lock = NSLock()
  private var sources: [SourceID: Source] = [:]

  public init() {}

  /// Registers a text and returns its source.
  public func add(name: String, text: String) -> Source {
    let source = Source(name: name, text: text)
    register(source)
    return source
  }

  /// Registers a source made elsewhere (once; registering it again changes nothing).
  public func register(_ source: Source) {
    guard source.id != .synthetic else { return }
    lock.lock()
    defer { lock.unlock() }
    sources[source.id] = source
  }

  public func source(_ id: SourceID) -> Source? {
    lock.lock()
    defer { lock.unlock() }
    return sources[id]
  }

  /// How many sources are registered (tests check that conversions add none).
  var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return sources.count
  }
}
