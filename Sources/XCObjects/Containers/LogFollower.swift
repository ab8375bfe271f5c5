import Foundation
import Glibc
import XCIPC
import XCShell

/// `logs --follow`: the log file's bytes as they are written, until the container has ended
/// (its record is kept, so every write is in), or Ctrl-C. The file is followed by descriptor:
/// when the container ends, xcd moves it to `ended/<id>/` (the same file); when the daemon trims
/// it past its cap, a new file takes the path, and reading goes on from its start.
final class LogFollower: @unchecked Sendable {
  private let path: String
  private let id: String
  private let session: DaemonSession
  private let call: Call
  private var fd: CInt
  private var inode: ino_t
  private var ended = false
  private var first: [UInt8]?

  init(path: String, tail: Int?, id: String, _ session: DaemonSession, _ call: Call) throws {
    self.path = path
    self.id = id
    self.session = session
    self.call = call
    fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw ShellError(.logsRead, "cannot read the log file \(path): \(String(cString: strerror(errno)))", at: call.head)
    }
    var st = stat()
    fstat(fd, &st)
    inode = st.st_ino
    // What is there already: all of it, or its last lines.
    var now: [UInt8] = []
    while let chunk = readChunk(), !chunk.isEmpty { now += chunk }
    if let tail {
      now = Array(LogsCommand.lastLines(String(decoding: now, as: UTF8.self), tail).utf8)
    }
    first = now
  }

  deinit { if fd >= 0 { close(fd) } }

  func stream(_ span: Span) -> ByteStream {
    ByteStream(span: span) { [self] in try next() }
  }

  private func readChunk() -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return nil }
      return Array(buffer[0..<n])
    }
  }

  /// The next bytes written, waiting for them; nil once the container has ended and all is read.
  private func next() throws -> [UInt8]? {
    if let f = first {
      first = nil
      if !f.isEmpty { return f }
    }
    while true {
      if let chunk = readChunk(), !chunk.isEmpty { return chunk }
      if ended { return nil }
      // A trim put a new file at the path: go on with it.
      var st = stat()
      if stat(path, &st) == 0, st.st_ino != inode {
        let fresh = open(path, O_RDONLY | O_CLOEXEC)
        if fresh >= 0 {
          close(fd)
          fd = fresh
          inode = st.st_ino
          continue
        }
      }
      ended = try containerEnded()
      if ended { continue }  // read what the last writes left, then stop
      try Clock.sleep(milliseconds: 100, call)
    }
  }

  /// Whether the container has ended and been released (its record kept, or gone).
  private func containerEnded() throws -> Bool {
    do {
      return try session.call(ShowContainerRequest(id: id), at: call.head).containerDead
    } catch let e as ShellError where ObjectArgs.isNotFound(e) {
      return true
    }
  }
}
