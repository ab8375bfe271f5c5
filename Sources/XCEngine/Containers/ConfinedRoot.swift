import CSupport
import Glibc
import SystemPackage

/// A container's root directory, opened once, in which paths are resolved as the container
/// would resolve them: with openat2(2) `RESOLVE_IN_ROOT`, so `..`, absolute symlinks and
/// absolute paths never leave it (Linux 5.6 or later). Every file operation then works
/// relative to a descriptor obtained that way.
struct ConfinedRoot {
  /// O_PATH (Linux; not in Swift's Glibc module): a descriptor that only names a file.
  static let O_PATH: CInt = 0o10000000
  let fd: CInt
  let path: String

  init(_ path: String) throws {
    self.path = path
    fd = try sysCall("open container root \(path)") { Glibc.open(path, Self.O_PATH | O_DIRECTORY | O_CLOEXEC) }
  }

  func close() { closeQuietly(fd) }

  /// Opens `path` (relative to the root; a leading "/" is the root) with `flags`.
  func open(_ path: String, _ flags: CInt, what: String) throws -> CInt {
    let relative = path.isEmpty ? "." : path
    let fd = cs_openat_in_root(self.fd, relative, flags | O_CLOEXEC, 0)
    guard fd >= 0 else {
      let code = errno
      if code == ENOSYS {
        throw EngineError(.unsupported, "copying in and out needs Linux 5.6 or later (openat2)", errno: .noFunction)
      }
      throw EngineError(.badRequest, "\(what): \(String(cString: strerror(code)))", errno: Errno(rawValue: code))
    }
    return fd
  }

  /// Whether `parts` below the root resolves (symlinks inside the root followed) to a directory.
  func isDirectory(_ parts: [String]) -> Bool {
    let walked = parts.joined(separator: "/")
    let d = cs_openat_in_root(fd, walked.isEmpty ? "." : walked, Self.O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
    guard d >= 0 else { return false }
    closeQuietly(d)
    return true
  }

  /// The directory at `parts` below the root as an `O_PATH` descriptor, each missing
  /// component created (mode 0755) when `create`.
  func directory(_ parts: [String], create: Bool, what: String) throws -> CInt {
    var current = try open(".", Self.O_PATH | O_DIRECTORY, what: what)
    var walked = ""
    for part in parts {
      walked += (walked.isEmpty ? "" : "/") + part
      var next = cs_openat_in_root(fd, walked, Self.O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
      if next < 0 && errno == ENOENT && create {
        // `current` was resolved inside the root, so the new directory is too.
        if mkdirat(current, part, 0o755) != 0 && errno != EEXIST {
          let code = errno
          closeQuietly(current)
          throw EngineError(.badRequest, "\(what): cannot create /\(walked): \(String(cString: strerror(code)))", errno: Errno(rawValue: code))
        }
        next = cs_openat_in_root(fd, walked, Self.O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
      }
      let code = errno
      closeQuietly(current)
      guard next >= 0 else {
        if code == ENOSYS {
          throw EngineError(.unsupported, "copying in and out needs Linux 5.6 or later (openat2)", errno: .noFunction)
        }
        throw EngineError(.badRequest, "\(what): /\(walked): \(String(cString: strerror(code)))", errno: Errno(rawValue: code))
      }
      current = next
    }
    return current
  }
}
