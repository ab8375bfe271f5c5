import CSupport
import Foundation
import Glibc
import XCSystem

/// Main's output when the client passed no descriptor for it (a detached `run`): one pipe per
/// logged stream, whose write end becomes main's stdout or stderr, copied by a thread into a
/// `RecordLog` as records of that stream. The thread ends when every process holding the write
/// ends has exited (the container's PID namespace is gone), or when `finish` gives up waiting.
final class MainLog: @unchecked Sendable {
  let log: RecordLog
  private let lock = NSLock()
  /// Per logged stream: the daemon's write end (until `closeWriters`) and the pump's read end.
  private var writeEnds: [LogStream: CInt] = [:]
  private let readEnds: [LogStream: CInt]
  private var stopping = false
  private let done = DispatchSemaphore(value: 0)

  init(log: RecordLog, streams: [LogStream]) throws {
    self.log = log
    var reads: [LogStream: CInt] = [:]
    do {
      for stream in streams {
        var pipe: [CInt] = [-1, -1]
        _ = try sysCall("pipe") { cs_pipe_cloexec(&pipe) }
        reads[stream] = pipe[0]
        writeEnds[stream] = pipe[1]
      }
    } catch {
      reads.values.forEach(closeQuietly)
      writeEnds.values.forEach(closeQuietly)
      throw error
    }
    readEnds = reads
    Thread.detachNewThread { [self] in
      pump()
      done.signal()
    }
  }

  /// The descriptor to hand to runc as main's `stream` (duplicate it); nil when not logged.
  func writer(_ stream: LogStream) -> CInt? {
    lock.lock()
    defer { lock.unlock() }
    return writeEnds[stream]
  }

  /// Closes the daemon's own write ends, once runc holds its copies: EOF then means the
  /// container's processes are gone.
  func closeWriters() {
    lock.lock()
    defer { lock.unlock() }
    writeEnds.values.forEach(closeQuietly)
    writeEnds = [:]
  }

  /// Waits up to `seconds` for the output to end, then stops copying, writes what is left of
  /// unterminated lines and closes the file.
  func finish(seconds: Double = 5) {
    closeWriters()
    if done.wait(timeout: .now() + seconds) == .timedOut {
      lock.lock()
      stopping = true
      lock.unlock()
      done.wait()
    }
    done.signal()  // later calls return at once
    log.close()
  }

  private var shouldStop: Bool {
    lock.lock()
    defer { lock.unlock() }
    return stopping
  }

  private func pump() {
    // stdout first: of two writes both waiting, the one to stdout is read first. Across the two
    // pipes the order of writes cannot be known (as with Docker's): a record's time is when
    // xcd read it.
    var open = LogStream.allCases.compactMap { s in readEnds[s].map { (stream: s, fd: $0) } }
    defer { open.forEach { closeQuietly($0.fd) } }
    var buffer = [UInt8](repeating: 0, count: 65536)
    while !open.isEmpty {
      var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
      let r = poll(&fds, nfds_t(fds.count), 200)
      if r < 0 && errno != EINTR { return }
      if r <= 0 {
        if shouldStop { return }
        continue
      }
      var ended: [CInt] = []
      for (i, p) in fds.enumerated() where p.revents != 0 {
        let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
        if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
        if n <= 0 {
          ended.append(p.fd)
          continue
        }
        buffer.withUnsafeBytes { log.append(open[i].stream, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      }
      for fd in ended {
        closeQuietly(fd)
        open.removeAll { $0.fd == fd }
      }
    }
  }
}
