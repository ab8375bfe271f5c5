/// The 16-byte frame header: body length and descriptor count, each a big-endian u64.
public struct FrameHeader: Sendable, Hashable {
  /// Length of the JSON body in bytes.
  public var bodyLength: UInt64
  /// Number of descriptors attached to the body.
  public var descriptorCount: UInt64

  /// The header's size on the wire.
  public static let size = 16

  /// Creates a header.
  public init(bodyLength: UInt64, descriptorCount: UInt64) {
    self.bodyLength = bodyLength
    self.descriptorCount = descriptorCount
  }

  /// Reads a header from the first 16 bytes of `bytes`.
  public init<C: Collection<UInt8>>(decoding bytes: C) {
    var it = bytes.makeIterator()
    var l: UInt64 = 0
    var n: UInt64 = 0
    for _ in 0..<8 { l = l << 8 | UInt64(it.next() ?? 0) }
    for _ in 0..<8 { n = n << 8 | UInt64(it.next() ?? 0) }
    self.init(bodyLength: l, descriptorCount: n)
  }

  /// The 16 bytes on the wire.
  public var bytes: [UInt8] {
    var out = [UInt8](repeating: 0, count: 16)
    for i in 0..<8 {
      out[i] = UInt8(truncatingIfNeeded: bodyLength >> (56 - 8 * UInt64(i)))
      out[8 + i] = UInt8(truncatingIfNeeded: descriptorCount >> (56 - 8 * UInt64(i)))
    }
    return out
  }

  /// Calls `body` with the 16 wire bytes, kept on the stack (no array per message).
  public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    var raw = (bodyLength.bigEndian, descriptorCount.bigEndian)
    return try withUnsafeBytes(of: &raw) { try body($0) }
  }

  /// Checks the header against `limits` before any body byte is trusted.
  public func validate(_ limits: FrameLimits) throws(IPCError) {
    guard bodyLength <= UInt64(limits.maxBodyLength) else {
      throw IPCError(
        .protocolViolation,
        "frame announces a \(bodyLength)-byte body, over the \(limits.maxBodyLength)-byte cap")
    }
    guard descriptorCount <= UInt64(limits.maxDescriptors) else {
      throw IPCError(
        .protocolViolation,
        "frame announces \(descriptorCount) descriptors, over the limit of \(limits.maxDescriptors)"
      )
    }
  }
}
