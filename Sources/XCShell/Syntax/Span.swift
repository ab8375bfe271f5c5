/// A range of UTF-8 bytes `[start, end)` in one source.
public struct Span: Hashable, Sendable, CustomStringConvertible {
  public var source: SourceID
  public var start: UInt32
  public var end: UInt32

  public init(source: SourceID, start: Int, end: Int) {
    self.source = source
    self.start = UInt32(clamping: start)
    self.end = UInt32(clamping: max(start, end))
  }

  /// A span that points nowhere, for values made by commands and tests.
  public static let unknown = Span(source: .synthetic, start: 0, end: 0)

  public var isKnown: Bool { source != .synthetic }

  /// The smallest span covering both.
  public func to(_ other: Span) -> Span {
    guard source == other.source else { return self }
    return Span(source: source, start: Int(min(start, other.start)), end: Int(max(end, other.end)))
  }

  /// FILE:LINE:COL, looking the source up in `sources` (then `SourceMap.shared`).
  public func location(in sources: SourceMap) -> String {
    guard let src = sources.source(source) ?? SourceMap.shared.source(source) else { return "<unknown>" }
    let (l, c) = src.location(of: Int(start))
    return "\(src.name):\(l):\(c)"
  }

  public var description: String { location(in: .shared) }
}
