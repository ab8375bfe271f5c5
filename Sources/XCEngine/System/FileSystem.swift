import Foundation
import Glibc

/// Small file helpers over libc, for the engine's own state files (never container content,
/// which goes through `LayerUnpacker`'s checked paths).
enum FileSystem {
  static func readBytes(_ path: String) throws -> [UInt8] {
    let fd = try sysCall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { closeQuietly(fd) }
    return try readAll(fd)
  }

  static func readString(_ path: String) throws -> String {
    String(decoding: try readBytes(path), as: UTF8.self)
  }

  /// Writes `bytes` to a temporary file beside `path`, fsyncs it and renames it into place, so
  /// a crash leaves either the old or the new content.
  static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
    let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = try sysCall("create \(temp)") {
      open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
    }
    do {
      try writeAll(fd, bytes)
      try sysCall("fsync \(temp)") { fsync(fd) }
      closeQuietly(fd)
      try sysCall("rename \(temp)") { rename(temp, path) }
    } catch {
      closeQuietly(fd)
      unlink(temp)
      throw error
    }
  }

  /// Writes a new file only this run of the engine reads (a runc bundle's `config.json`): not
  /// synced nor renamed into place, since nothing reads it before this returns and a crash
  /// leaves it in a directory the next start's reconciliation removes. Fails if it exists.
  static func writeEphemeral(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
    let fd = try sysCall("create \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode) }
    defer { closeQuietly(fd) }
    try writeAll(fd, bytes)
  }

  /// Creates `path` and its missing parents.
  static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
      current += "/" + component
      if mkdir(current, mode) != 0 && errno != EEXIST {
        throw EngineError.system("create directory \(current)")
      }
    }
  }

  static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// The names in directory `path` (without `.` and `..`); empty if it does not exist.
  static func list(_ path: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
  }

  /// Removes `path` recursively without following symlinks. Refuses while anything is mounted
  /// at or below it, so a leftover mount can never make this delete through into an image.
  static func removeTree(_ path: String) throws {
    guard exists(path) else { return }
    let mounted = Mount.mountPoints(under: path)
    if !mounted.isEmpty {
      throw EngineError(
        .system, "refusing to remove \(path): \(mounted[0]) is still mounted", errno: .resourceBusy)
    }
    do {
      try FileManager.default.removeItem(atPath: path)
    } catch {
      throw EngineError(.system, "remove \(path): \(error.localizedDescription)", errno: .ioError)
    }
  }
}
