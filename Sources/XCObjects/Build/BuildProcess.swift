import CSupport
import Foundation
import SystemPackage
import XCIPC
import XCShell
import XCSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A process started in a build container with `exec`: its stdout and stderr go to one pipe
/// that the build reads (echoing it when asked, keeping the tail for error messages), its
/// stdin comes from a pipe the caller fills, and its exit comes on an eventfd.
final class BuildProcess {
  /// Set when the wait was cut short by Ctrl-C or SIGTERM.
  struct Interrupted: Error {}

  private let exited: EventFD
  private let output: Int32
  /// The last bytes of output, for the error of a failing step.
  private(set) var tail: [UInt8] = []
  static let tailLimit = 8192

  /// Starts `argv` in `container`; `stdin` (if any) is given to the process and closed here.
  init(
    _ session: DaemonSession, container: String, argv: [String], env: [String: String],
    stdin: FileDescriptor?, stdout: FileDescriptor? = nil, at span: Span
  ) throws {
    exited = try Self.system(.systemEventfd, "an eventfd") { try EventFD.create(flags: [.closeOnExec]) }
    let fds: [Int32]
    do { fds = try makePipe() } catch {
      close(exited.rawValue)
      throw error
    }
    output = fds[0]
    defer { close(fds[1]) }  // the daemon holds its own copy once exec returns
    var request = ExecRequest(name: container, arg0: argv[0], args: Array(argv.dropFirst()), envs: env)
    request.stdin = stdin.map(FDRef.init)
    request.stdout = FDRef(stdout ?? FileDescriptor(rawValue: fds[1]))
    request.stderr = FDRef(FileDescriptor(rawValue: fds[1]))
    request.notify = FDRef(exited.fileDescriptor)
    // On failure the object is fully initialized, so deinit closes both descriptors.
    _ = try session.call(request, at: span)
  }

  deinit {
    close(output)
    close(exited.rawValue)
  }

  private static func system<T>(_ code: ShellError.Code, _ what: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch {
      throw ShellError(code, "cannot create \(what): \(error)", at: .unknown)
    }
  }

  /// Relays output (to `echo`, when given) until the process exits; then drains what it left
  /// in the pipe. Background children that keep the pipe open do not hold the build.
  func wait(echo: Int32?) throws -> WaitStatus {
    var outputOpen = true
    var buf = [UInt8](repeating: 0, count: 65536)
    func readOnce() -> Bool {
      let n = read(output, &buf, buf.count)
      guard n > 0 else { return n < 0 && errno == EINTR }
      keep(buf[0..<n])
      if let echo { _ = buf.withUnsafeBytes { write(echo, $0.baseAddress, n) } }
      return true
    }
    while true {
      var fds = [pollfd(fd: exited.rawValue, events: Int16(POLLIN), revents: 0)]
      if outputOpen { fds.append(pollfd(fd: output, events: Int16(POLLIN), revents: 0)) }
      if cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
      _ = poll(&fds, nfds_t(fds.count), -1)
      if cs_signal_pending() != 0 { throw Interrupted() }
      if outputOpen, fds[1].revents != 0 { outputOpen = readOnce() }
      if fds[0].revents != 0, let v = try? exited.read(), let status = ProcessNotification.decodeExit(v) {
        // Drain what is already written; stop at the first empty poll.
        while outputOpen {
          var p = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
          guard poll(&p, 1, 50) > 0 else { break }
          outputOpen = readOnce()
        }
        return status
      }
    }
  }

  private func keep(_ bytes: ArraySlice<UInt8>) {
    tail.append(contentsOf: bytes)
    if tail.count > Self.tailLimit * 2 { tail.removeFirst(tail.count - Self.tailLimit) }
  }

  /// The last lines of output (at most `limit` bytes), as text.
  var outputTail: String {
    var bytes = tail.suffix(Self.tailLimit)
    if tail.count > Self.tailLimit, let nl = bytes.firstIndex(of: 10) { bytes = bytes[(nl + 1)...] }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// A pipe whose write end a thread fills with bytes (the heredoc of a RUN, a tar stream of
/// COPY) while the process reads the other end.
final class StdinFeeder: @unchecked Sendable {
  let readEnd: FileDescriptor
  private let writeEnd: Int32
  private let done = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var failure: (any Error)?

  /// `produce` gets the write end; it runs on its own thread and the end is closed after it.
  init(produce: @escaping @Sendable (Int32) throws -> Void) throws {
    let fds = try makePipe()
    readEnd = FileDescriptor(rawValue: fds[0])
    writeEnd = fds[1]
    let t = Thread { [self] in
      do { try produce(writeEnd) } catch {
        lock.withLock { failure = error }
      }
      close(writeEnd)
      done.signal()
    }
    t.start()
  }

  private var readEndClosed = false

  /// Closes our copy of the read end (the process has its own once `exec` returned); with no
  /// reader left, the producer's writes fail and it ends. Idempotent.
  func closeReadEnd() {
    guard !readEndClosed else { return }
    readEndClosed = true
    try? readEnd.close()
  }

  /// Waits for the producer; its error, if any, is thrown.
  func finish() throws {
    done.wait()
    if let failure = lock.withLock({ failure }) { throw failure }
  }

  /// Writes all of `bytes` to `fd`; a reader that went away (EPIPE) ends it quietly.
  static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) throws {
    var data = Array(bytes)[...]
    while !data.isEmpty {
      let n = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        if errno == EPIPE { throw BrokenPipe() }
        throw ShellError(.systemWrite, "cannot write to the build process: \(String(cString: strerror(errno)))", at: .unknown)
      }
      data = data.dropFirst(n)
    }
  }

  /// The reader closed its end before taking everything.
  struct BrokenPipe: Error {}
}

/// A pipe whose ends are close-on-exec (the daemon gets them by descriptor passing, not fork).
func makePipe() throws -> [Int32] {
  var fds: [Int32] = [-1, -1]
  guard pipe(&fds) == 0 else {
    throw ShellError(.systemPipe, "cannot create a pipe: \(String(cString: strerror(errno)))", at: .unknown)
  }
  for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
  return fds
}
