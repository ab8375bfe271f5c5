import Glibc
import SystemPackage

/// What an `fd_import` descriptor holds: xc's single layer, or (a Linux extension) a whole
/// image archive, as `skopeo copy … oci-archive:` or `docker save` write.
enum ArchiveKind: Equatable {
  /// A plain, gzip or zstd tar of a root filesystem: xc's `fd_import`.
  case layer
  /// A tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/`) or a `docker save`
  /// tar (`manifest.json` and `<id>/layer.tar`).
  case image

  /// Looks at the file from its current offset without moving it (`pread`). Compressed data
  /// is always a layer: image archives are plain tars.
  static func sniff(_ fd: FileDescriptor) -> ArchiveKind {
    let start = lseek(fd.rawValue, 0, SEEK_CUR)
    guard start >= 0 else { return .layer }  // a pipe: only a layer can be streamed
    var header = [UInt8](repeating: 0, count: 512)
    var offset = start
    var names: Set<String> = []
    var sawLayerTar = false
    var sawBlobs = false
    for _ in 0..<100_000 {
      let n = header.withUnsafeMutableBytes { pread(fd.rawValue, $0.baseAddress, 512, offset) }
      guard n == 512 else { break }
      if offset == start
        && (header.starts(with: [0x1f, 0x8b]) || header.starts(with: [0x28, 0xb5, 0x2f, 0xfd]))
      {
        return .layer
      }
      if header.allSatisfy({ $0 == 0 }) { break }  // end of archive
      guard let size = Self.size(header) else { break }
      let name = Self.name(header)
      names.insert(name)
      if name.hasSuffix("/layer.tar") { sawLayerTar = true }
      if name.hasPrefix("blobs/sha256/") { sawBlobs = true }
      offset += 512 + off_t((size + 511) / 512 * 512)
    }
    if names.contains("oci-layout") && sawBlobs { return .image }
    if names.contains("manifest.json") && (sawLayerTar || sawBlobs) { return .image }
    return .layer
  }

  /// The member name without a leading `./` (ustar prefix joined).
  private static func name(_ h: [UInt8]) -> String {
    func field(_ range: Range<Int>) -> String {
      let bytes = h[range].prefix { $0 != 0 }
      return String(decoding: bytes, as: UTF8.self)
    }
    var name = field(0..<100)
    if h[257..<262].elementsEqual("ustar".utf8) {
      let prefix = field(345..<500)
      if !prefix.isEmpty { name = prefix + "/" + name }
    }
    while name.hasPrefix("./") { name.removeFirst(2) }
    return name
  }

  /// The member size: octal, or base-256 when the top bit is set (GNU).
  private static func size(_ h: [UInt8]) -> Int? {
    let f = h[124..<136]
    if let first = f.first, first & 0x80 != 0 {
      var v = 0
      for b in f.dropFirst() { v = (v << 8) | Int(b) }
      return v
    }
    let digits = f.prefix { $0 != 0 && $0 != 0x20 }.drop { $0 == 0x20 }
    if digits.isEmpty { return 0 }
    return Int(String(decoding: digits, as: UTF8.self), radix: 8)
  }
}
