import CSupport
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs host programs: PATH lookup, spawning with the shell's environment, piping bytes in and
/// out, and turning a non-zero exit into an error that carries the exit code.
enum External {
  /// Finds `name` on `$PATH` (or as a path when it contains `/`).
  static func which(_ name: String, environment: [String: String]) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(name)"
      var st = stat()
      if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  static func run(
    name: String, args: [String], at nameSpan: Span, span: Span, input: Pipe, sink: Bool, evaluator ev: Evaluator,
    suggestions: [String] = [], stderrToStdout: Bool = false, files: RedirectedFiles = RedirectedFiles()
  ) throws -> Pipe {
    // Output redirected to a file: the program gets the file itself and nothing is read back.
    let sink = sink || files.stdout != nil
    guard let path = which(name, environment: ev.environment) else {
      var e = ShellError(.nameUnknownCommand, "unknown command `\(name)`", at: nameSpan,
        note: "not a built-in, a function or a program on PATH")
      if let s = Suggest.closest(name, in: suggestions) { e.help = "did you mean `\(s)`?" }
      throw e
    }
    ev.output.flush()

    // Standard input: inherited when nothing is piped in, else fed from the pipe by a thread.
    var stdinRead: Int32 = -1
    var feeder: (Int32, Pipe)? = nil
    if !input.isEmpty {
      var fds: [Int32] = [0, 0]
      guard makePipe(&fds) else { throw spawnError(name, errno, nameSpan) }
      stdinRead = fds[0]
      feeder = (fds[1], input)
    }
    var stdoutFDs: [Int32] = [-1, -1]
    if !sink {
      guard makePipe(&stdoutFDs) else { throw spawnError(name, errno, nameSpan) }
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if stdinRead >= 0 { posix_spawn_file_actions_adddup2(&actions, stdinRead, 0) }
    if !sink { posix_spawn_file_actions_adddup2(&actions, stdoutFDs[1], 1) }
    // `2>&1`: standard error goes where standard output now goes (into the pipe, when piped).
    if let fd = files.stdout { posix_spawn_file_actions_adddup2(&actions, fd, 1) }
    if stderrToStdout { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
    if let fd = files.stderr { posix_spawn_file_actions_adddup2(&actions, fd, 2) }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    // Children start with default signal handling (the shell ignores SIGPIPE).
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGTERM)
    sigaddset(&defaults, SIGHUP)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    // …and with no signal blocked, whatever mask this process inherited.
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let argv = [name] + args
    let envp = ev.environment.map { "\($0.key)=\($0.value)" }
    var pid: pid_t = 0
    let rc = withCStrings(argv) { cargv in
      withCStrings(envp) { cenv in posix_spawn(&pid, path, &actions, &attr, cargv, cenv) }
    }
    if stdinRead >= 0 { close(stdinRead) }
    if !sink { close(stdoutFDs[1]) }
    guard rc == 0 else {
      if let feeder { close(feeder.0) }
      if !sink { close(stdoutFDs[0]) }
      throw spawnError(name, rc, nameSpan)
    }
    if let (fd, pipe) = feeder { startFeeder(fd: fd, pipe: pipe) }

    let process = ChildProcess(pid: pid, name: name, span: nameSpan, evaluator: ev)
    if sink {
      try process.wait()
      return .empty
    }
    let readFD = stdoutFDs[0]
    let stream = ByteStream(
      span: span,
      reader: {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
          let n = read(readFD, &buf, buf.count)
          if n > 0 { return Array(buf[0..<n]) }
          if n == 0 { return nil }
          if errno == EINTR {
            if cs_signal_pending() != 0 {
              process.forward(cs_signal_pending())
              try ev.checkInterrupt()
            }
            continue
          }
          return nil
        }
      },
      finisher: {
        close(readFD)
        try process.wait()
      })
    process.onAbandon = { close(readFD) }
    return .bytes(stream)
  }

  /// A pipe whose ends are closed on exec (the child gets only what dup2 gives it).
  static func makePipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return true
  }

  static func spawnError(_ name: String, _ code: Int32, _ span: Span) -> ShellError {
    ShellError(.externalSpawn, "cannot run `\(name)`: \(String(cString: strerror(code)))", at: span)
  }

  /// Writes the pipe's contents to `fd` on a background thread, then closes it.
  static func startFeeder(fd: Int32, pipe: Pipe) {
    let box = UncheckedBox((fd, pipe))
    let thread = Thread {
      let (fd, pipe) = box.value
      defer { close(fd) }
      func write(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
          let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
          if n < 0 {
            if errno == EINTR { continue }
            return false
          }
          off += n
        }
        return true
      }
      do {
        switch pipe {
        case .empty: return
        case .bytes(let b): while let c = try b.nextChunk() { guard write(c) else { return } }
        case .value(let v): _ = write(Array(Value.textForPipe(v).utf8))
        case .stream(let s):
          while let v = try s.next() { guard write(Array((v.plain + "\n").utf8)) else { return } }
        }
      } catch {}
    }
    thread.start()
  }

  static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
  }
}

extension Value {
  /// What an external command reads when a value is piped into it: strings as they are
  /// (with a final newline), lists one item per line, other values in their plain form.
  static func textForPipe(_ v: Value) -> String {
    switch v.kind {
    case .list(let items): return items.map { $0.plain + "\n" }.joined()
    case .range: return ((try? v.asList()) ?? []).map { $0.plain + "\n" }.joined()
    case .string(let s): return s.hasSuffix("\n") || s.isEmpty ? s : s + "\n"
    case .null: return ""
    default: return v.plain + "\n"
    }
  }
}

/// A spawned child: waits for it, forwards interrupts, and reaps it if its output is abandoned.
final class ChildProcess: @unchecked Sendable {
  let pid: pid_t
  let name: String
  let span: Span
  unowned let evaluator: Evaluator
  private var reaped = false
  var onAbandon: (() -> Void)?

  init(pid: pid_t, name: String, span: Span, evaluator: Evaluator) {
    self.pid = pid
    self.name = name
    self.span = span
    self.evaluator = evaluator
  }

  func forward(_ sig: Int32) { if !reaped { kill(pid, sig) } }

  /// Waits for exit; a non-zero status becomes an error with the exit code.
  ///
  /// Waits on a pidfd and the signal pipe together, so a SIGINT or SIGTERM that arrives at any
  /// moment (even before the wait starts) is forwarded to the child instead of being missed.
  func wait() throws {
    var status: Int32 = 0
    var interrupted: Int32 = cs_signal_pending()
    if interrupted != 0 { forward(interrupted) }
    let pidfd = cs_pidfd_open(pid)
    if pidfd >= 0 {
      defer { close(pidfd) }
      while true {
        var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        if interrupted == 0, cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
        _ = poll(&fds, nfds_t(fds.count), -1)
        let sig = cs_signal_pending()
        if sig != 0, interrupted == 0 {
          interrupted = sig
          forward(sig)
        }
        if fds[0].revents != 0 { break }
      }
    }
    while true {
      let r = waitpid(pid, &status, 0)
      if r == pid { break }
      if r < 0 && errno == EINTR {
        let sig = cs_signal_pending()
        if sig != 0, interrupted == 0 {
          interrupted = sig
          forward(sig)
        }
        continue
      }
      break
    }
    reaped = true
    if interrupted != 0 { throw evaluator.interruption(interrupted) }
    let exited = status & 0x7F == 0
    let code = exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    if code != 0 {
      var e = ShellError(
        .externalFailed,
        exited ? "`\(name)` exited with status \(code)" : "`\(name)` was killed by signal \(status & 0x7F)",
        at: span, exitCode: code, command: name)
      e.payload["program"] = name
      throw e
    }
  }

  deinit {
    guard !reaped else { return }
    // Output nobody reads any more: close the pipe so the child gets EPIPE, then reap it.
    onAbandon?()
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == 0 {
      kill(pid, SIGTERM)
      waitpid(pid, &status, 0)
    }
  }
}

/// Moves a non-Sendable value into a thread that becomes its only user.
final class UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
