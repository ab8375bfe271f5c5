import CSupport
import Foundation
import Glibc
import XCSystem

/// Serves a container process's pty master on a UNIX stream socket, as xc's terminal sockets
/// (spec §3.5): raw bytes both ways, no framing. Every connected client receives the pty's
/// output (a newly connecting client first gets up to the last 1 MiB of it), and every
/// client's input is written to the pty. The socket is removed when the pty closes (every
/// process holding the terminal has exited) or `close()` is called.
final class TerminalRelay: @unchecked Sendable {
  /// Output kept for clients that connect later.
  static let backlogLimit = 1 << 20

  /// The socket clients connect to.
  let path: String
  private let master: CInt
  private let listener: CInt
  /// Written by `close()` to end the relay loop.
  private let wake: [CInt]
  private let done = DispatchSemaphore(value: 0)
  private var clients: [CInt] = []
  private var backlog: [UInt8] = []
  /// Where the pty output is also kept (main's log, as stdout), if anywhere.
  private let log: RecordLog?
  /// Guards `masterOpen`: a resize (from a client's connection thread) must not reach the
  /// master after the relay thread has closed it (the number may be reused by then).
  private let masterLock = NSLock()
  private var masterOpen = true

  /// Listens on `path` and starts relaying `master` (owned from now on) on its own thread;
  /// the output is also appended to `log`.
  init(master: CInt, path: String, log: RecordLog? = nil) throws {
    self.master = master
    self.path = path
    self.log = log
    var pipe: [CInt] = [-1, -1]
    do {
      _ = try sysCall("pipe") { cs_pipe_cloexec(&pipe) }
      wake = pipe
      listener = try Self.listen(at: path)
    } catch {
      closeQuietly(master)
      closeQuietly(pipe[0])
      closeQuietly(pipe[1])
      throw error
    }
    _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    Thread.detachNewThread { [self] in
      run()
      done.signal()
    }
  }

  /// Drains what the pty still holds, ends the relay, removes the socket and waits until the
  /// relay thread is done. Idempotent.
  func close() {
    var one: UInt8 = 1
    _ = write(wake[1], &one, 1)
    done.wait()
    done.signal()  // later calls return at once
  }

  /// Sets the pty's window size (TIOCSWINSZ on the master); the kernel sends SIGWINCH to the
  /// terminal's foreground process group when it changes (`xcsh.resize`).
  func resize(rows: UInt16, columns: UInt16) throws(EngineError) {
    masterLock.lock()
    defer { masterLock.unlock() }
    guard masterOpen else {
      throw EngineError(.notRunning, "the terminal \(path) has closed (its process has ended)", errno: .noSuchFileOrDirectory)
    }
    var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
    _ = try sysCall("set the window size of the terminal \(path)") { ioctl(master, UInt(TIOCSWINSZ), &size) }
  }

  // MARK: -

  private func run() {
    defer {
      log?.flush()  // the pty's output has ended: its unterminated last line too
      clients.forEach(closeQuietly)
      clients = []
      unlink(path)
      closeQuietly(listener)
      masterLock.withLock {
        masterOpen = false
        closeQuietly(master)
      }
      closeQuietly(wake[0])
    }
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      var fds = [
        pollfd(fd: master, events: Int16(POLLIN), revents: 0),
        pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
        pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0),
      ] + clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let r = poll(&fds, nfds_t(fds.count), -1)
      if r < 0 {
        if errno == EINTR { continue }
        return
      }
      if fds[0].revents != 0 {
        // EIO (or EOF) once every holder of the slave side has closed it: the process is gone.
        if !drainMaster(&buffer) { return }
      }
      if fds[2].revents != 0 {
        _ = drainMaster(&buffer)
        return
      }
      if fds[1].revents & Int16(POLLIN) != 0 { accept() }
      for pfd in fds.dropFirst(3) where pfd.revents != 0 {
        let n = buffer.withUnsafeMutableBytes { read(pfd.fd, $0.baseAddress, $0.count) }
        if n > 0 {
          var offset = 0
          while offset < n {
            let w = buffer.withUnsafeBytes { write(master, $0.baseAddress! + offset, n - offset) }
            if w < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if w <= 0 { break }
            offset += w
          }
        } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
          drop(pfd.fd)
        }
      }
    }
  }

  /// Reads everything the pty has now and sends it to every client; false once it is closed.
  private func drainMaster(_ buffer: inout [UInt8]) -> Bool {
    while true {
      let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
      if n > 0 {
        let chunk = Array(buffer[0..<n])
        log?.append(.stdout, chunk)
        backlog += chunk
        if backlog.count > Self.backlogLimit {
          backlog.removeFirst(backlog.count - Self.backlogLimit)
        }
        for client in clients where !send(chunk, to: client) { drop(client) }
        continue
      }
      if n < 0 && errno == EINTR { continue }
      return n < 0 && errno == EAGAIN
    }
  }

  private func accept() {
    guard let fd = try? Self.acceptCloexec(listener) else { return }
    if send(backlog, to: fd) { clients.append(fd) } else { closeQuietly(fd) }
  }

  /// Sends all of `bytes`; false if the client is gone or too slow to take them.
  private func send(_ bytes: [UInt8], to fd: CInt) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes {
        Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
      }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return false }
      offset += n
    }
    return true
  }

  private func drop(_ fd: CInt) {
    clients.removeAll { $0 == fd }
    closeQuietly(fd)
  }

  /// The next connection on `listener`, close-on-exec (no process the engine spawns may
  /// inherit it).
  static func acceptCloexec(_ listener: CInt) throws -> CInt {
    let fd = try sysCall("accept") { Glibc.accept(listener, nil, nil) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    return fd
  }

  /// A listening UNIX stream socket at `path` (replacing a stale file), mode 0660.
  static func listen(at path: String) throws -> CInt {
    let fd = try sysCall("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    do {
      unlink(path)
      _ = try sysCall("bind \(path)") { cs_bind_unix(fd, path) }
      _ = try sysCall("chmod \(path)") { chmod(path, 0o660) }
      _ = try sysCall("listen \(path)") { Glibc.listen(fd, 16) }
    } catch {
      closeQuietly(fd)
      throw error
    }
    return fd
  }

  /// Accepts runc's connection on the console socket `listener` and receives the pty master
  /// it sends (`runc create --console-socket`). runc has sent it by the time `create` returns.
  static func receiveMaster(_ listener: CInt) throws -> CInt {
    var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
    guard poll(&pfd, 1, 10_000) == 1 else {
      throw EngineError(
        .runtimeFailed, "runc sent no terminal on the console socket within 10 s",
        help: "check that the runtime supports --console-socket", errno: .ioError)
    }
    let conn = try acceptCloexec(listener)
    defer { closeQuietly(conn) }
    var byte = [UInt8](repeating: 0, count: 4096)
    var fds: [CInt] = [-1]
    var count = 0
    var truncated: CInt = 0
    _ = try sysCall("receive the pty master") {
      CInt(truncatingIfNeeded: cs_recv_with_fds(conn, &byte, byte.count, &fds, 1, &count, &truncated, Int32(MSG_CMSG_CLOEXEC)))
    }
    guard count == 1, fds[0] >= 0 else {
      throw EngineError(.runtimeFailed, "runc sent no pty master on the console socket", errno: .ioError)
    }
    return fds[0]
  }
}
