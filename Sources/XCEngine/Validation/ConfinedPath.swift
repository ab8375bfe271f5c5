import Foundation
import Glibc

/// Paths a client names (host mounts, copy destinations, `cp` targets, build contexts),
/// checked before use so they cannot reach outside what they are meant to.
///
/// Two kinds:
/// - `hostPath`: an absolute path on the host (a bind mount's source). It must be absolute,
///   normalised (no `.`/`..` components, no `//`), free of NUL, and must not name a
///   directory the daemon owns (its state dir) or the root itself.
/// - `resolve(_:inside:)`: a path inside a root (a container's rootfs, a volume). It is
///   resolved one component at a time, each symlink followed *inside* the root (an absolute
///   target restarts at the root, `..` never climbs above it), like `openat2(RESOLVE_IN_ROOT)`.
public enum ConfinedPath {
  /// The most symlinks followed while resolving one path (Linux's own limit is 40).
  public static let maxSymlinks = 40

  /// Checks an absolute host path named in field `field`; returns it unchanged.
  @discardableResult
  public static func hostPath(_ path: String, field: String, forbidden: [String] = [])
    throws -> String
  {
    func bad(_ why: String) -> EngineError {
      EngineError(.unsafePath, "\(field): path \(Names.quoted(path)) \(why)", errno: .invalidArgument)
    }
    guard path.hasPrefix("/") else { throw bad("must be absolute") }
    guard !path.utf8.contains(0) else { throw bad("contains a NUL byte") }
    guard path.utf8.count <= Int(PATH_MAX) else { throw bad("is longer than PATH_MAX") }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    if parts.contains(where: { $0 == "." || $0 == ".." }) {
      throw bad("contains '.' or '..' components")
    }
    if path == "/" { throw bad("is the host's root") }
    for dir in forbidden where path == dir || path.hasPrefix(dir.hasSuffix("/") ? dir : dir + "/") {
      throw bad("is inside \(dir), which the daemon owns")
    }
    return path
  }

  /// Resolves `path` (absolute or relative, as seen from inside) to a host path below `root`,
  /// following symlinks inside `root`. The last component need not exist.
  public static func resolve(_ path: String, inside root: String, field: String) throws -> String {
    func bad(_ why: String) -> EngineError {
      EngineError(.unsafePath, "\(field): path \(Names.quoted(path)) \(why)", errno: .invalidArgument)
    }
    guard !path.utf8.contains(0) else { throw bad("contains a NUL byte") }
    var pending = path.split(separator: "/").map(String.init).reversed() as [String]
    var resolved: [String] = []
    var links = 0
    while let part = pending.popLast() {
      if part == "." || part.isEmpty { continue }
      if part == ".." {
        _ = resolved.popLast()  // never above the root
        continue
      }
      let candidate = root + "/" + (resolved + [part]).joined(separator: "/")
      var st = stat()
      if lstat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
        links += 1
        guard links <= maxSymlinks else { throw bad("has too many levels of symbolic links") }
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate)
        else { throw bad("has an unreadable symbolic link at \(part)") }
        if target.hasPrefix("/") { resolved = [] }
        pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
        continue
      }
      resolved.append(part)
    }
    return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
  }
}
