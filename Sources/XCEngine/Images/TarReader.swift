import Glibc

/// One member of a tar archive.
struct TarEntry: Sendable {
  enum Kind: Sendable, Equatable {
    case file, hardLink, symlink, characterDevice, blockDevice, directory, fifo
    case other(UInt8)
  }
  var path: String
  var kind: Kind
  var size: Int64
  var mode: UInt32
  var uid: UInt32
  var gid: UInt32
  var mtime: Int64
  var linkName: String
  var devMajor: UInt32
  var devMinor: UInt32
}

/// A streaming reader of tar archives: ustar, pax extended headers (path, linkpath, size,
/// uid, gid, mtime) and GNU long names. It reads from a descriptor (a file or a
/// decompressor's pipe) and can hash every byte it consumes, so a layer's diff id is checked
/// in the same pass that unpacks it.
struct TarReader {
  private let fd: CInt
  private var buffer: [UInt8]
  private var start = 0
  private var end = 0
  private var hasher: SHA256?
  private var remaining: Int64 = 0  // data bytes of the current entry not yet consumed
  private var padding: Int64 = 0
  private var finished = false

  /// Reads from `fd`; with `hashing`, the SHA-256 of all bytes read is kept.
  init(fd: CInt, hashing: Bool = false) {
    self.fd = fd
    // 1 MiB: a layer's big files come in few reads (and few writes by the unpacker).
    buffer = [UInt8](repeating: 0, count: 1 << 20)
    hasher = hashing ? SHA256() : nil
  }

  static func bad(_ why: String) -> EngineError {
    EngineError(.badArchive, "malformed tar archive: \(why)", errno: .invalidArgument)
  }

  /// The next entry, or nil at the end of the archive. Skips any unread data of the previous.
  mutating func next() throws -> TarEntry? {
    if finished { return nil }
    try skipData()
    var longName: String?
    var longLink: String?
    var pax: [String: String] = [:]
    while true {
      let header = try readExactly(512, allowEOF: true)
      guard let header else {
        finished = true  // a truncated end marker is tolerated; a truncated member is not
        return nil
      }
      if header.allSatisfy({ $0 == 0 }) {
        finished = true
        return nil
      }
      try verifyChecksum(header)
      let type = header[156]
      let size = try number(header[124..<136])
      switch type {
      case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
        guard size >= 0, size < 1 << 20 else { throw Self.bad("metadata entry too large") }
        let body = try readExactly(Int(size), allowEOF: false)!
        try skip(Int64((512 - Int(size) % 512) % 512))
        if type == UInt8(ascii: "x") {
          pax.merge(try parsePax(body)) { $1 }
        } else if type == UInt8(ascii: "L") {
          longName = cString(body[...])
        } else if type == UInt8(ascii: "K") {
          longLink = cString(body[...])
        }
        continue
      default:
        break
      }
      var entry = TarEntry(
        path: cString(header[0..<100]),
        kind: kind(type),
        size: size,
        mode: UInt32(truncatingIfNeeded: try number(header[100..<108])),
        uid: UInt32(truncatingIfNeeded: try number(header[108..<116])),
        gid: UInt32(truncatingIfNeeded: try number(header[116..<124])),
        mtime: try number(header[136..<148]),
        linkName: cString(header[157..<257]),
        devMajor: UInt32(truncatingIfNeeded: try number(header[329..<337])),
        devMinor: UInt32(truncatingIfNeeded: try number(header[337..<345])))
      // POSIX ustar splits long names into prefix/name; GNU tar uses the field otherwise.
      if Array(header[257..<263]) == Array("ustar\0".utf8) {
        let prefix = cString(header[345..<500])
        if !prefix.isEmpty { entry.path = prefix + "/" + entry.path }
      }
      if let longName { entry.path = longName }
      if let longLink { entry.linkName = longLink }
      if let path = pax["path"] { entry.path = path }
      if let link = pax["linkpath"] { entry.linkName = link }
      if let value = pax["size"] {
        guard let n = Int64(value) else { throw Self.bad("bad pax size") }
        entry.size = n
      }
      if let value = pax["uid"], let n = UInt32(value) { entry.uid = n }
      if let value = pax["gid"], let n = UInt32(value) { entry.gid = n }
      if let value = pax["mtime"], let n = Double(value) { entry.mtime = Int64(n) }
      guard entry.size >= 0 else { throw Self.bad("negative size") }
      guard !entry.path.isEmpty else { throw Self.bad("empty member name") }
      // Links and directories carry no data whatever the size field says.
      let hasData = entry.kind == .file || { if case .other = entry.kind { return true }; return false }()
      remaining = hasData ? entry.size : 0
      padding = hasData ? (512 - entry.size % 512) % 512 : 0
      return entry
    }
  }

  /// Streams the current entry's data to `body`, in chunks.
  mutating func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    while remaining > 0 {
      if start == end { try fill(required: true) }
      let n = min(end - start, Int(clamping: remaining))
      try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + n)])) }
      consume(n)
      remaining -= Int64(n)
    }
    try skip(padding)
    padding = 0
  }

  /// Reads the current entry's data into memory (for small metadata files).
  mutating func readDataBytes(limit: Int) throws -> [UInt8] {
    guard remaining <= Int64(limit) else { throw Self.bad("member larger than \(limit) bytes") }
    var out: [UInt8] = []
    try readData { out.append(contentsOf: $0) }
    return out
  }

  mutating func skipData() throws {
    try skip(remaining + padding)
    remaining = 0
    padding = 0
  }

  /// Reads to end of input (trailing zero blocks) and returns the hex SHA-256 of everything
  /// read, if hashing.
  mutating func finishHash() throws -> String? {
    try skipData()
    while true {
      if start < end { consume(end - start) }
      if try !fill(required: false) { break }
    }
    return hasher?.finalizeHex()
  }

  // MARK: - Buffering

  private mutating func consume(_ n: Int) {
    if hasher != nil {
      buffer.withUnsafeBytes { hasher!.update(UnsafeRawBufferPointer(rebasing: $0[start..<(start + n)])) }
    }
    start += n
  }

  /// Refills the (empty) buffer; returns false at end of input unless `required`.
  @discardableResult
  private mutating func fill(required: Bool) throws -> Bool {
    start = 0
    end = 0
    let n = try buffer.withUnsafeMutableBytes { try readSome(fd, into: $0) }
    if n == 0 {
      if required { throw Self.bad("unexpected end of archive") }
      return false
    }
    end = n
    return true
  }

  private mutating func skip(_ count: Int64) throws {
    var left = count
    while left > 0 {
      if start == end { try fill(required: true) }
      let n = min(end - start, Int(clamping: left))
      consume(n)
      left -= Int64(n)
    }
  }

  private mutating func readExactly(_ count: Int, allowEOF: Bool) throws -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(count)
    while out.count < count {
      if start == end {
        if try !fill(required: false) {
          if allowEOF && out.isEmpty { return nil }
          throw Self.bad("unexpected end of archive")
        }
      }
      let n = min(end - start, count - out.count)
      out.append(contentsOf: buffer[start..<(start + n)])
      consume(n)
    }
    return out
  }

  // MARK: - Fields

  private func cString(_ bytes: ArraySlice<UInt8>) -> String {
    let stop = bytes.firstIndex(of: 0) ?? bytes.endIndex
    return String(decoding: bytes[bytes.startIndex..<stop], as: UTF8.self)
  }

  /// An octal field, or a base-256 one (high bit set) as GNU tar writes large values.
  private func number(_ field: ArraySlice<UInt8>) throws -> Int64 {
    if let first = field.first, first & 0x80 != 0 {
      var value: Int64 = Int64(first & 0x3f)
      for byte in field.dropFirst() {
        guard value < (Int64.max >> 8) else { throw Self.bad("numeric field overflows") }
        value = value << 8 | Int64(byte)
      }
      return value
    }
    var value: Int64 = 0
    var seenDigit = false
    for byte in field {
      if byte == 0 || (byte == 0x20 && seenDigit) { break }
      if byte == 0x20 { continue }
      guard byte >= 0x30, byte <= 0x37 else { throw Self.bad("bad octal field") }
      guard value < (Int64.max >> 3) else { throw Self.bad("numeric field overflows") }
      value = value << 3 | Int64(byte - 0x30)
      seenDigit = true
    }
    return value
  }

  private func verifyChecksum(_ header: [UInt8]) throws {
    let stored = try number(header[148..<156])
    var sum: Int64 = 0
    for (i, byte) in header.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int64(byte) }
    guard sum == stored else { throw Self.bad("header checksum mismatch") }
  }

  private func kind(_ type: UInt8) -> TarEntry.Kind {
    switch type {
    case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): return .file
    case UInt8(ascii: "1"): return .hardLink
    case UInt8(ascii: "2"): return .symlink
    case UInt8(ascii: "3"): return .characterDevice
    case UInt8(ascii: "4"): return .blockDevice
    case UInt8(ascii: "5"): return .directory
    case UInt8(ascii: "6"): return .fifo
    default: return .other(type)
    }
  }

  /// pax records: "<length> <key>=<value>\n", length counting the whole record.
  private func parsePax(_ body: [UInt8]) throws -> [String: String] {
    var result: [String: String] = [:]
    var i = 0
    while i < body.count {
      // The length counts the whole record: its own digits, the space and the newline too, so
      // one that ends before the space (`003 path=…`) or not at a newline is malformed.
      guard let space = body[i...].firstIndex(of: 0x20),
        let length = Int(String(decoding: body[i..<space], as: UTF8.self)),
        length > 0, i + length <= body.count, i + length - 1 > space, body[i + length - 1] == 0x0A
      else {
        if body[i...].allSatisfy({ $0 == 0 }) { break }
        throw Self.bad("bad pax record")
      }
      let record = body[(space + 1)..<(i + length - 1)]  // drop the trailing newline
      if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
        let key = String(decoding: record[record.startIndex..<eq], as: UTF8.self)
        result[key] = String(decoding: record[(eq + 1)...], as: UTF8.self)
      }
      i += length
    }
    return result
  }
}
