import CSupport

/// A streaming SHA-256 (FIPS 180-4), used to name and verify blobs by digest.
struct SHA256 {
  private var h: [UInt32] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]
  private var pending: [UInt8] = []
  private var length: UInt64 = 0

  init() { pending.reserveCapacity(64) }

  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    length &+= UInt64(bytes.count)
    var offset = 0
    if !pending.isEmpty {
      let take = min(64 - pending.count, bytes.count)
      pending.append(contentsOf: bytes[0..<take])
      offset = take
      if pending.count == 64 {
        let block = pending  // not borrowed from self while compress mutates it
        block.withUnsafeBytes { compress($0) }
        pending.removeAll(keepingCapacity: true)
      }
    }
    let whole = (bytes.count - offset) / 64
    if whole > 0 {
      compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + whole * 64)]))
      offset += whole * 64
    }
    if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
  }

  mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// The digest as 64 lowercase hex characters.
  mutating func finalizeHex() -> String {
    let bitLength = length &* 8
    var tail: [UInt8] = [0x80]
    while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
    for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
    let savedLength = length
    update(tail)
    length = savedLength
    let hexDigits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for word in h {
      for shift in stride(from: 28, through: 0, by: -4) {
        out.append(hexDigits[Int((word >> UInt32(shift)) & 0xf)])
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func hex(_ bytes: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalizeHex()
  }

  /// Compresses whole 64-byte blocks (in C: the CPU's SHA instructions when it has them).
  private mutating func compress(_ blocks: UnsafeRawBufferPointer) {
    let data = blocks.bindMemory(to: UInt8.self)
    h.withUnsafeMutableBufferPointer { state in
      cs_sha256_blocks(state.baseAddress, data.baseAddress, blocks.count / 64)
    }
  }
}
