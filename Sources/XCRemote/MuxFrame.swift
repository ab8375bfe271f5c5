/// One frame of the relay's mux protocol (docs/remote.md, "Mux protocol"): a 12-byte header,
/// big-endian, modelled on yamux, then `length` payload bytes for DATA, HELLO and NOTICE.
///
///     version u8 | type u8 | flags u16 | stream u32 | length u32
public struct MuxHeader: Sendable, Equatable {
  /// The protocol version in every header.
  public static let version: UInt8 = 1
  /// The header's size on the wire.
  public static let size = 12
  /// The largest payload either side sends in one frame.
  public static let maxPayload = 64 * 1024
  /// Every stream's initial receive window.
  public static let initialWindow: UInt32 = 1024 * 1024
  /// A receiver gives window back once this much is written out (not per frame): fewer small
  /// WINDOW frames through ssh. At most the window, so a blocked sender is always unblocked.
  public static let windowUpdateThreshold: UInt32 = 256 * 1024

  /// What a frame is.
  public enum Kind: UInt8, Sendable {
    /// Stream bytes; flags may half-close (FIN) or abort (RST) the stream.
    case data = 0
    /// `length` more bytes may be sent on the stream.
    case window = 1
    /// Liveness and round-trip time; answered with ACK and the same `length`.
    case ping = 2
    /// The sender is closing the session; `length` is a code.
    case goAway = 3
    /// The handshake, first frame each way.
    case hello = 4
    /// From the relay on stream 0: key=value lines about the daemon connection.
    case notice = 5
  }

  /// Frame flags.
  public struct Flags: OptionSet, Sendable, Equatable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let syn = Flags(rawValue: 1)
    /// On stream 0 from the relay: the held call was handed to the daemon.
    public static let ack = Flags(rawValue: 2)
    /// Half-close: the sender sends no more on this stream (EOF).
    public static let fin = Flags(rawValue: 4)
    /// Abort the stream in both directions.
    public static let rst = Flags(rawValue: 8)
  }

  public var kind: Kind
  public var flags: Flags
  public var stream: UInt32
  public var length: UInt32

  public init(_ kind: Kind, flags: Flags = [], stream: UInt32, length: UInt32) {
    self.kind = kind
    self.flags = flags
    self.stream = stream
    self.length = length
  }

  /// Whether `length` counts payload bytes that follow (else it is a value).
  public var hasPayload: Bool { kind == .data || kind == .hello || kind == .notice }

  /// The 12 wire bytes.
  public var bytes: [UInt8] {
    var b: [UInt8] = [Self.version, kind.rawValue, UInt8(flags.rawValue >> 8), UInt8(flags.rawValue & 0xff)]
    b.appendBigEndian(stream)
    b.appendBigEndian(length)
    return b
  }

  /// Reads a header; nil for a version or type this side does not speak.
  public init?<C: Collection<UInt8>>(decoding c: C) where C.Index == Int {
    guard c.count >= Self.size else { return nil }
    let s = c.startIndex
    guard c[s] == Self.version, let kind = Kind(rawValue: c[s + 1]) else { return nil }
    self.kind = kind
    self.flags = Flags(rawValue: UInt16(c[s + 2]) << 8 | UInt16(c[s + 3]))
    self.stream = UInt32(bigEndianBytes: c[(s + 4)..<(s + 8)])
    self.length = UInt32(bigEndianBytes: c[(s + 8)..<(s + 12)])
  }
}

extension Array where Element == UInt8 {
  mutating func appendBigEndian(_ v: UInt32) {
    append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)])
  }

  mutating func appendBigEndian(_ v: UInt64) {
    appendBigEndian(UInt32(v >> 32))
    appendBigEndian(UInt32(v & 0xffff_ffff))
  }
}

extension UInt32 {
  init<C: Collection<UInt8>>(bigEndianBytes c: C) {
    var v: UInt32 = 0
    for b in c { v = v << 8 | UInt32(b) }
    self = v
  }
}

extension UInt64 {
  init<C: Collection<UInt8>>(bigEndianBytes c: C) {
    var v: UInt64 = 0
    for b in c { v = v << 8 | UInt64(b) }
    self = v
  }
}
