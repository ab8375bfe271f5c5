import Foundation
import Glibc

extension Engine {
  /// Marks the state directory as in use by a running engine; `shutdown` removes the mark.
  /// A mark found at start means the last engine did not stop cleanly (crash, `kill -9`,
  /// power loss).
  var runningMark: String { layout.root + "/running" }

  /// At start: after an unclean stop, re-hashes every blob; one whose content does not
  /// match its digest (a write torn by the crash, a disk error) is moved to `quarantine/`
  /// and logged, never served as valid. Returns the quarantined digests. Then sets the mark.
  @discardableResult
  func verifyBlobsIfUncleanStop() -> [String] {
    var quarantined: [String] = []
    if access(runningMark, F_OK) == 0 {
      let blobs = FileSystem.list(layout.blobs)
      logger.notice("the last engine did not stop cleanly: verifying \(blobs.count) blobs")
      for hex in blobs {
        let path = layout.blobs + "/" + hex
        guard let actual = Self.sha256Hex(ofFile: path), actual == hex else {
          let dir = layout.root + "/quarantine"
          _ = mkdir(dir, 0o700)
          _ = rename(path, dir + "/" + hex)
          quarantined.append("sha256:" + hex)
          logger.error(
            "blob sha256:\(hex) does not match its digest: moved to \(dir); images using it need to be imported again")
          continue
        }
      }
    }
    let fd = open(runningMark, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    if fd >= 0 { closeQuietly(fd) }
    return quarantined
  }

  /// Removes the mark: this engine stopped cleanly.
  func markCleanStop() {
    _ = unlink(runningMark)
  }

  /// The SHA-256 of a file's content, or nil if it cannot be read.
  static func sha256Hex(ofFile path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { closeQuietly(fd) }
    var hasher = SHA256()
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      guard let n = try? buffer.withUnsafeMutableBytes({ try readSome(fd, into: $0) }) else { return nil }
      if n == 0 { break }
      buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    return hasher.finalizeHex()
  }
}
