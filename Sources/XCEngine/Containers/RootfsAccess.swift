import Glibc

/// Reading and writing files inside a container's mounted rootfs from the host, without ever
/// following a symlink the image put there (which could point anywhere on the host).
struct RootfsAccess {
  let root: String

  /// The host path of `path` inside the rootfs, with its parent directories created when
  /// `create`. Throws if a component is `..` or a symlink.
  func hostPath(_ path: String, createParents: Bool) throws -> String {
    guard path.hasPrefix("/") else {
      throw EngineError(.badRequest, "\(path) is not an absolute path", errno: .invalidArgument)
    }
    let parts = try LayerUnpacker.components(path)
    guard let last = parts.last else {
      throw EngineError(.badRequest, "\(path) names the root directory", errno: .invalidArgument)
    }
    var current = root
    for part in parts.dropLast() {
      current += "/" + part
      var st = stat()
      if lstat(current, &st) != 0 {
        guard createParents, errno == ENOENT else {
          throw EngineError(.badRequest, "\(path): \(part) does not exist", errno: .noSuchFileOrDirectory)
        }
        try sysCall("create \(current)") { mkdir(current, 0o755) }
      } else if (st.st_mode & S_IFMT) != S_IFDIR {
        throw EngineError(
          .badRequest, "\(path): \(part) is a symlink or not a directory", errno: .invalidArgument)
      }
    }
    return current + "/" + last
  }

  /// Copies from `source` (from its current offset) into `destination` inside the rootfs.
  func copy(from source: CInt, to destination: String) throws {
    let path = try hostPath(destination, createParents: true)
    let out = try sysCall("create \(destination) in the container") {
      open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
    }
    defer { closeQuietly(out) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = try buffer.withUnsafeMutableBytes { try readSome(source, into: $0) }
      if n == 0 { break }
      try buffer.withUnsafeBytes { try writeAll(out, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
  }

  /// A small file of the image (e.g. /etc/passwd), or nil if absent or reached via a symlink.
  func read(_ path: String) -> String? {
    guard let host = try? hostPath(path, createParents: false) else { return nil }
    let fd = open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { closeQuietly(fd) }
    return (try? readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Resolves `user` and `group` (names or numbers) through the image's /etc/passwd and
  /// /etc/group. Returns uid, gid and the user's home directory.
  func resolveUser(_ user: String?, _ group: String?) throws -> (uid: UInt32, gid: UInt32, home: String) {
    let passwd = (read("/etc/passwd") ?? "").split(separator: "\n").map {
      $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }.filter { $0.count >= 7 }
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var home = "/"
    if let user, !user.isEmpty {
      if let entry = passwd.first(where: { $0[0] == user }) ?? UInt32(user).flatMap({ n in passwd.first { $0[2] == String(n) } }) {
        uid = UInt32(entry[2]) ?? 0
        gid = UInt32(entry[3]) ?? 0
        home = entry[5]
      } else if let n = UInt32(user) {
        uid = n
        gid = n
      } else {
        throw EngineError(.noSuchUser, "no such user in the image: \(user)", errno: .noSuchFileOrDirectory)
      }
    } else if let root = passwd.first(where: { $0[2] == "0" }) {
      home = root[5]
    }
    if let group, !group.isEmpty {
      let groups = (read("/etc/group") ?? "").split(separator: "\n").map {
        $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      }
      if let entry = groups.first(where: { $0.count >= 3 && $0[0] == group }) {
        gid = UInt32(entry[2]) ?? 0
      } else if let n = UInt32(group) {
        gid = n
      } else {
        throw EngineError(.noSuchUser, "no such group in the image: \(group)", errno: .noSuchFileOrDirectory)
      }
    }
    return (uid, gid, home)
  }
}
