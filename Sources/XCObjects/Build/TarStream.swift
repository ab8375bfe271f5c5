import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Writes host files as a tar stream (POSIX ustar, with pax headers for long names) for COPY:
/// regular files, directories and symbolic links, owned by root, modes and times kept.
struct TarStream {
  /// A host file that cannot go into the stream.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  let fd: Int32

  /// Writes `source` as `name`, and a directory's entries below it (`name` empty: the
  /// directory's contents at the top), then the end-of-archive blocks.
  func write(_ source: String, as name: String) throws {
    try entry(source, name: name)
    try StdinFeeder.writeAll(fd, [UInt8](repeating: 0, count: 1024))
  }

  private func entry(_ path: String, name: String) throws {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    let mode = st.st_mode & S_IFMT
    let perm = Int(st.st_mode & 0o7777)
    let mtime = Int(st.st_mtim.tv_sec)
    switch mode {
    case S_IFDIR:
      if !name.isEmpty { try header(name + "/", type: "5", mode: perm, size: 0, mtime: mtime) }
      let children = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
      for c in children { try entry(path + "/" + c, name: name.isEmpty ? c : name + "/" + c) }
    case S_IFLNK:
      var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      let n = readlink(path, &buf, buf.count - 1)
      guard n >= 0 else { throw Failure(description: "cannot read the link \(path)") }
      let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      try header(name, type: "2", mode: perm, size: 0, mtime: mtime, link: target)
    case S_IFREG:
      let size = Int(st.st_size)
      try header(name, type: "0", mode: perm, size: size, mtime: mtime)
      try copyContents(path, size: size)
    default:
      throw Failure(description: "cannot copy \(path): COPY takes regular files, directories and symbolic links")
    }
  }

  private func copyContents(_ path: String, size: Int) throws {
    let input = open(path, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(input) }
    var left = size
    var buf = [UInt8](repeating: 0, count: 65536)
    while left > 0 {
      let n = read(input, &buf, min(buf.count, left))
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { throw Failure(description: "\(path) changed while it was being copied") }
      try StdinFeeder.writeAll(fd, buf[0..<n])
      left -= n
    }
    let pad = (512 - size % 512) % 512
    if pad > 0 { try StdinFeeder.writeAll(fd, [UInt8](repeating: 0, count: pad)) }
  }

  private func header(
    _ name: String, type: Character, mode: Int, size: Int, mtime: Int, link: String = ""
  ) throws {
    var pax: [(String, String)] = []
    if name.utf8.count > 100 { pax.append(("path", name)) }
    if link.utf8.count > 100 { pax.append(("linkpath", link)) }
    if !pax.isEmpty {
      var records: [UInt8] = []
      for (k, v) in pax { records += Self.paxRecord(k, v) }
      try StdinFeeder.writeAll(fd, Self.block(name: "PaxHeader", type: "x", mode: 0o644, size: records.count, mtime: mtime, link: ""))
      try StdinFeeder.writeAll(fd, records + [UInt8](repeating: 0, count: (512 - records.count % 512) % 512))
    }
    guard size < 0o77777777777 else { throw Failure(description: "\(name) is too large to copy (8 GiB at most)") }
    try StdinFeeder.writeAll(fd, Self.block(name: name, type: type, mode: mode, size: size, mtime: mtime, link: link))
  }

  /// `LEN key=value\n`, LEN counting itself.
  static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
    let body = " \(key)=\(value)\n"
    var len = body.utf8.count + 1
    while String(len).utf8.count + body.utf8.count != len { len += 1 }
    return Array((String(len) + body).utf8)
  }

  static func block(name: String, type: Character, mode: Int, size: Int, mtime: Int, link: String) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 512)
    func put(_ s: some Collection<UInt8>, _ at: Int, _ width: Int) {
      for (i, c) in s.prefix(width).enumerated() { b[at + i] = c }
    }
    func octal(_ v: Int, _ at: Int, _ width: Int) {
      let s = String(v, radix: 8)
      put(Array((String(repeating: "0", count: max(0, width - 1 - s.count)) + s).utf8), at, width - 1)
    }
    put(Array(name.utf8), 0, 100)
    octal(mode, 100, 8)
    octal(0, 108, 8)
    octal(0, 116, 8)
    octal(size, 124, 12)
    octal(max(mtime, 0), 136, 12)
    b[156] = type.asciiValue!
    put(Array(link.utf8), 157, 100)
    put(Array("ustar\u{0}00".utf8), 257, 8)
    put(Array("root".utf8), 265, 32)
    put(Array("root".utf8), 297, 32)
    for i in 148..<156 { b[i] = 32 }
    let sum = b.reduce(0) { $0 + Int($1) }
    let s = String(sum, radix: 8)
    put(Array((String(repeating: "0", count: 6 - s.count) + s).utf8), 148, 6)
    b[154] = 0
    b[155] = 32
    return b
  }
}
