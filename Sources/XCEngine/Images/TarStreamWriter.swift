import Glibc

/// Writes a tar archive (ustar, with pax extended headers for what ustar cannot hold) to a
/// descriptor, optionally hashing every byte written.
struct TarStreamWriter {
  /// ustar type flags.
  enum Kind: UInt8 {
    case file = 48, hardLink = 49, symlink = 50, characterDevice = 51, blockDevice = 52
    case directory = 53, fifo = 54
  }

  let fd: CInt
  private var hasher: SHA256?
  /// Bytes written so far.
  private(set) var written: Int64 = 0

  /// With `hashing`, `finish` returns the archive's SHA-256 (the Swift hasher is slow in
  /// debug builds: big layers are better hashed afterwards with `ImageStore.sha256(ofFile:)`).
  init(fd: CInt, hashing: Bool = false) {
    self.fd = fd
    hasher = hashing ? SHA256() : nil
  }

  /// One member's header. `path` is relative (directories end in "/"); file data follows
  /// through `copyData`.
  mutating func header(
    _ path: String, _ kind: Kind, size: Int64 = 0, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
    mtime: Int64 = 0, linkName: String = "", devMajor: UInt32 = 0, devMinor: UInt32 = 0
  ) throws {
    var pax: [(String, String)] = []
    if path.utf8.count > 100 { pax.append(("path", path)) }
    if linkName.utf8.count > 100 { pax.append(("linkpath", linkName)) }
    if size > 0o77777777777 { pax.append(("size", String(size))) }
    if uid > 0o7777777 { pax.append(("uid", String(uid))) }
    if gid > 0o7777777 { pax.append(("gid", String(gid))) }
    if !pax.isEmpty {
      var body: [UInt8] = []
      for (key, value) in pax { body += Self.paxRecord(key, value) }
      try write(Self.block(name: "PaxHeader", typeflag: UInt8(ascii: "x"), size: Int64(body.count), mode: 0o644))
      try write(body)
      try pad(Int64(body.count))
    }
    try write(
      Self.block(
        name: path, typeflag: kind.rawValue, size: kind == .file ? size : 0, mode: mode, uid: uid,
        gid: gid, mtime: mtime, linkName: linkName, devMajor: devMajor, devMinor: devMinor))
  }

  /// Copies exactly `size` bytes of a file's data from `source`, then the padding. A file
  /// that shrank meanwhile is padded with zeros, so the archive stays well formed.
  mutating func copyData(from source: CInt, size: Int64) throws {
    var left = size
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while left > 0 {
      let want = Int(min(Int64(buffer.count), left))
      let n = try buffer.withUnsafeMutableBytes {
        try readSome(source, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]))
      }
      if n == 0 {
        try write([UInt8](repeating: 0, count: want))
        left -= Int64(want)
        continue
      }
      try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      left -= Int64(n)
    }
    try pad(size)
  }

  /// Writes a member's data held in memory, then the padding.
  mutating func data(_ bytes: [UInt8]) throws {
    try write(bytes)
    try pad(Int64(bytes.count))
  }

  /// Writes the end-of-archive marker; returns the archive's SHA-256 as `sha256:<hex>` when
  /// hashing, else nil.
  @discardableResult
  mutating func finish() throws -> String? {
    try write([UInt8](repeating: 0, count: 1024))
    return hasher.map { h in var h = h; return "sha256:" + h.finalizeHex() }
  }

  private mutating func pad(_ size: Int64) throws {
    let n = Int((512 - size % 512) % 512)
    if n > 0 { try write([UInt8](repeating: 0, count: n)) }
  }

  private mutating func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  private mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
    hasher?.update(bytes)
    try writeAll(fd, bytes)
    written += Int64(bytes.count)
  }

  /// "LEN key=value\n", LEN counting itself.
  static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
    let base = key.utf8.count + value.utf8.count + 3
    var length = base + String(base).count
    if String(length).count > String(base).count { length += 1 }
    return Array("\(length) \(key)=\(value)\n".utf8)
  }

  static func block(
    name: String, typeflag: UInt8, size: Int64, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
    mtime: Int64 = 0, linkName: String = "", devMajor: UInt32 = 0, devMinor: UInt32 = 0
  ) -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ bytes: [UInt8], _ offset: Int, _ length: Int) {
      for (i, b) in bytes.prefix(length).enumerated() { h[offset + i] = b }
    }
    func octal(_ value: Int64, _ offset: Int, _ length: Int) {
      let clamped = min(max(value, 0), (Int64(1) << (3 * Int64(length - 1))) - 1)
      let text = String(clamped, radix: 8)
      put(Array((String(repeating: "0", count: max(0, length - 1 - text.count)) + text).utf8), offset, length - 1)
    }
    put(Array(name.utf8), 0, 100)
    octal(Int64(mode & 0o7777), 100, 8)
    octal(Int64(uid), 108, 8)
    octal(Int64(gid), 116, 8)
    octal(size, 124, 12)
    octal(mtime, 136, 12)
    h[156] = typeflag
    put(Array(linkName.utf8), 157, 100)
    put(Array("ustar\0".utf8), 257, 6)
    put(Array("00".utf8), 263, 2)
    octal(Int64(devMajor), 329, 8)
    octal(Int64(devMinor), 337, 8)
    for i in 148..<156 { h[i] = 0x20 }
    let sum = h.reduce(0) { $0 + Int($1) }
    let text = String(sum, radix: 8)
    put(Array((String(repeating: "0", count: max(0, 6 - text.count)) + text).utf8) + [0, 0x20], 148, 8)
    return h
  }
}
