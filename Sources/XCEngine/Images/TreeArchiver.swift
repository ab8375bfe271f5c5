import CSupport
import Glibc
import SystemPackage

/// Writes a directory tree as tar members, walking by descriptor (`openat` with
/// `O_NOFOLLOW`) so a tree someone else can change (a container's) is never left through a
/// symlink. Hard links within the tree become link members.
///
/// With `overlayWhiteouts` the tree is an overlayfs upper directory and its whiteouts are
/// translated to OCI's: a character device 0/0 becomes `.wh.NAME`, a directory with the
/// `trusted.overlay.opaque` xattr `y` gets a `.wh..wh..opq` member (LayerUnpacker applies
/// the reverse).
struct TreeArchiver {
  var writer: TarStreamWriter
  var overlayWhiteouts = false
  /// Relative paths (no leading "/") skipped when they are an empty file or directory: the
  /// mount points runc creates in a container's root.
  var placeholders: Set<String> = []
  private var links: [String: String] = [:]

  init(writer: TarStreamWriter) {
    self.writer = writer
  }

  static let opaqueXattr = "trusted.overlay.opaque"

  /// Archives the children of the directory `fd` as `prefix` + name.
  mutating func addChildren(of fd: CInt, prefix: String) throws {
    for name in try Self.list(fd) {
      try add(parent: fd, name: name, path: prefix + name)
    }
  }

  /// Archives `name` in the directory `parent` (recursively) as `path`.
  mutating func add(parent: CInt, name: String, path: String) throws {
    var st = stat()
    try sysCall("stat \(path)") { fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) }
    let mtime = Int64(st.st_mtim.tv_sec)
    let mode = UInt32(st.st_mode) & 0o7777
    switch st.st_mode & S_IFMT {
    case S_IFDIR:
      let dir = try sysCall("open directory \(path)") {
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      }
      defer { closeQuietly(dir) }
      let children = try Self.list(dir)
      if children.isEmpty && placeholders.contains(path) { return }
      try writer.header(path + "/", .directory, mode: mode, uid: st.st_uid, gid: st.st_gid, mtime: mtime)
      if overlayWhiteouts && Self.isOpaque(dir) {
        try writer.header(path + "/.wh..wh..opq", .file, mode: 0, mtime: mtime)
      }
      for child in children {
        try add(parent: dir, name: child, path: path + "/" + child)
      }
    case S_IFREG:
      if st.st_size == 0 && placeholders.contains(path) { return }
      let key = "\(st.st_dev):\(st.st_ino)"
      if st.st_nlink > 1 {
        if let first = links[key] {
          try writer.header(path, .hardLink, mode: mode, uid: st.st_uid, gid: st.st_gid, mtime: mtime, linkName: first)
          return
        }
        links[key] = path
      }
      let file = try sysCall("open \(path)") { openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
      defer { closeQuietly(file) }
      try writer.header(path, .file, size: Int64(st.st_size), mode: mode, uid: st.st_uid, gid: st.st_gid, mtime: mtime)
      try writer.copyData(from: file, size: Int64(st.st_size))
    case S_IFLNK:
      try writer.header(
        path, .symlink, mode: mode, uid: st.st_uid, gid: st.st_gid, mtime: mtime,
        linkName: try Self.readLink(parent, name, path))
    case S_IFCHR where overlayWhiteouts && st.st_rdev == 0:
      let slash = path.lastIndex(of: "/")
      let dir = slash.map { String(path[...$0]) } ?? ""
      try writer.header(dir + ".wh." + name, .file, mode: 0, mtime: mtime)
    case S_IFCHR, S_IFBLK:
      let dev = UInt64(st.st_rdev)
      let major = UInt32(((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff)))
      let minor = UInt32((dev & 0xff) | ((dev >> 12) & ~UInt64(0xff)))
      try writer.header(
        path, (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice, mode: mode,
        uid: st.st_uid, gid: st.st_gid, mtime: mtime, devMajor: major, devMinor: minor)
    case S_IFIFO:
      try writer.header(path, .fifo, mode: mode, uid: st.st_uid, gid: st.st_gid, mtime: mtime)
    default:
      break  // sockets have no place in an archive
    }
  }

  /// The names in directory `fd`, sorted (so archives of equal trees are equal).
  static func list(_ fd: CInt) throws -> [String] {
    let copy = try sysCall("open directory") { openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard let dir = fdopendir(copy) else {
      let code = errno
      closeQuietly(copy)
      throw EngineError.system("list directory", Errno(rawValue: code))
    }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  static func readLink(_ parent: CInt, _ name: String, _ path: String) throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlinkat(parent, name, &buffer, buffer.count - 1)
    guard n >= 0 else { throw EngineError.system("read link \(path)") }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func isOpaque(_ dir: CInt) -> Bool {
    var value = [UInt8](repeating: 0, count: 4)
    let n = cs_fgetxattr(dir, opaqueXattr, &value, value.count)
    return n == 1 && value[0] == UInt8(ascii: "y")
  }
}
