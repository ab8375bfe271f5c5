import Foundation
import Glibc

/// An append-only log file kept to at most `capacity` bytes. When a write would pass the cap,
/// the oldest output is dropped: the newest half (from its first whole line) is written to a
/// new file renamed over the old one, so a reader always sees a complete file, never a
/// truncated one. A `header` (the format's first line) is written first and kept by every trim.
/// Writes are best effort (a full disk must not stop the container). Thread-safe.
final class BoundedLogFile: @unchecked Sendable {
  /// 1 MiB per log, as xc keeps 1 MiB of pty output for late attachers.
  static let defaultCapacity = 1 << 20

  let path: String
  let capacity: Int
  let header: [UInt8]
  private let lock = NSLock()
  private var fd: CInt
  private var size = 0

  /// Creates (or empties) the file at `path`, starting it with `header`.
  init(path: String, capacity: Int = defaultCapacity, header: [UInt8] = []) throws {
    self.path = path
    self.header = header
    self.capacity = max(capacity, header.count + 2)
    fd = try sysCall("create \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o640) }
    if (try? writeAll(fd, header)) != nil { size = header.count }
  }

  deinit { closeQuietly(fd) }

  /// Appends `bytes`, dropping the oldest output first if the file would pass the cap.
  func append(_ bytes: UnsafeRawBufferPointer) {
    guard !bytes.isEmpty else { return }
    lock.lock()
    defer { lock.unlock() }
    guard fd >= 0 else { return }
    var bytes = bytes
    let room = capacity - header.count
    if bytes.count > room {
      // Only the end fits: from its first line start, so the file still begins with a whole line.
      var cut = bytes.count - room
      if let newline = bytes[cut...].firstIndex(of: UInt8(ascii: "\n")) { cut = newline + 1 }
      bytes = UnsafeRawBufferPointer(rebasing: bytes[cut...])
    }
    if size + bytes.count > capacity {
      trim(keeping: min(size - header.count, room / 2, room - bytes.count))
    }
    if (try? writeAll(fd, bytes)) != nil { size += bytes.count }
  }

  func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// Replaces the file by the header and its last `keep` bytes (from the first line start among
  /// them).
  private func trim(keeping keep: Int) {
    let want = max(keep, 0)
    var tail = [UInt8](repeating: 0, count: want)
    var got = 0
    let reader = open(path, O_RDONLY | O_CLOEXEC)
    if reader >= 0 {
      while got < want {
        let n = tail.withUnsafeMutableBytes {
          pread(reader, $0.baseAddress! + got, want - got, off_t(size - want + got))
        }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        got += n
      }
      closeQuietly(reader)
    }
    tail.removeLast(tail.count - got)
    if let newline = tail.firstIndex(of: UInt8(ascii: "\n")) { tail.removeFirst(newline + 1) }
    let staging = path + ".trim"
    let fresh = open(staging, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o640)
    if fresh >= 0, (try? writeAll(fresh, header + tail)) != nil, rename(staging, path) == 0 {
      closeQuietly(fd)
      fd = fresh
      size = header.count + tail.count
      return
    }
    // Could not stage a copy: empty the file in place rather than grow past the cap.
    closeQuietly(fresh)
    unlink(staging)
    _ = ftruncate(fd, 0)
    size = (try? writeAll(fd, header)) != nil ? header.count : 0
  }

  /// Closes the file; later appends are ignored.
  func close() {
    lock.lock()
    defer { lock.unlock() }
    closeQuietly(fd)
    fd = -1
  }
}
