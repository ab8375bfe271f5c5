import CSupport
import Foundation
import Glibc

/// Main's output when the client passed no descriptor for it (a detached `run`): a pipe whose
/// write end becomes main's stdout and/or stderr, copied by a thread into a `BoundedLogFile`.
/// The thread ends when every process holding the write end has exited (the container's
/// PID namespace is gone), or when `finish` gives up waiting for that.
final class MainLog: @unchecked Sendable {
  let file: BoundedLogFile
  private let lock = NSLock()
  private var writeEnd: CInt
  private let readEnd: CInt
  private var stopping = false
  private let done = DispatchSemaphore(value: 0)

  init(file: BoundedLogFile) throws {
    self.file = file
    var pipe: [CInt] = [-1, -1]
    _ = try sysCall("pipe") { cs_pipe_cloexec(&pipe) }
    readEnd = pipe[0]
    writeEnd = pipe[1]
    Thread.detachNewThread { [self] in
      pump()
      done.signal()
    }
  }

  /// The descriptor to hand to runc as main's stdout/stderr (duplicate it).
  var writer: CInt {
    lock.lock()
    defer { lock.unlock() }
    return writeEnd
  }

  /// Closes the daemon's own write end, once runc holds its copies: EOF then means the
  /// container's processes are gone.
  func closeWriter() {
    lock.lock()
    defer { lock.unlock() }
    closeQuietly(writeEnd)
    writeEnd = -1
  }

  /// Waits up to `seconds` for the output to end, then stops copying and closes the file.
  func finish(seconds: Double = 5) {
    closeWriter()
    if done.wait(timeout: .now() + seconds) == .timedOut {
      lock.lock()
      stopping = true
      lock.unlock()
      done.wait()
    }
    done.signal()  // later calls return at once
    file.close()
  }

  private var shouldStop: Bool {
    lock.lock()
    defer { lock.unlock() }
    return stopping
  }

  private func pump() {
    defer { closeQuietly(readEnd) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      var p = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
      let r = poll(&p, 1, 200)
      if r < 0 && errno != EINTR { return }
      if r <= 0 {
        if shouldStop { return }
        continue
      }
      let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
      if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
      if n <= 0 { return }
      buffer.withUnsafeBytes { file.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
  }
}
