/// Splits a byte stream into frames without any I/O; `FrameChannel` runs every received byte
/// through it, and tests drive it directly.
public enum FrameDecoder {
  /// A complete frame found at the start of the bytes.
  public struct Decoded: Sendable, Equatable {
    /// The validated header.
    public var header: FrameHeader
    /// Where the body is, relative to the start of the input.
    public var bodyRange: Range<Int>
    /// Header plus body length: how many bytes the frame used.
    public var consumed: Int { bodyRange.upperBound }
  }

  /// Result of looking at buffered bytes.
  public enum Outcome: Sendable, Equatable {
    /// More bytes are needed: at least this many in total.
    case needMore(total: Int)
    /// A whole frame is present.
    case frame(Decoded)
  }

  /// Looks at `bytes` (the unread part of a stream). Throws `.protocolViolation` as soon as a
  /// header breaks `limits`, before waiting for (or allocating) its body.
  public static func decode<C: Collection<UInt8>>(
    _ bytes: C, limits: FrameLimits
  ) throws(IPCError) -> Outcome where C.Index == Int {
    guard bytes.count >= FrameHeader.size else { return .needMore(total: FrameHeader.size) }
    let s = bytes.startIndex
    let header = FrameHeader(decoding: bytes[s..<s + FrameHeader.size])
    try header.validate(limits)
    let total = FrameHeader.size + Int(header.bodyLength)
    guard bytes.count >= total else { return .needMore(total: total) }
    return .frame(Decoded(header: header, bodyRange: FrameHeader.size..<total))
  }
}
