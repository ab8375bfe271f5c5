import CSupport
import Glibc
import SystemPackage
import XCIPC
import XCShell
import XCSystem

/// A process's terminal, reached through its terminal socket (xc-ipc.md §3.5): raw bytes both
/// ways, this terminal in raw mode meanwhile; Ctrl-P then `q` detaches (xc-cli.md §7.2). On a
/// remote host the socket is reached through the relay (a connect stream), the same bytes.
enum TerminalRelay {
  /// Connects to the terminal socket at `path` (here or on the session's host); nil when it is
  /// gone (the process ended and took its terminal with it).
  static func connect(_ path: String, _ s: DaemonSession, _ call: Call) throws -> Socket? {
    do throws(IPCError) {
      return try s.connectNextToDaemon(path).map { Socket(rawValue: $0) }
    } catch {
      throw ShellError(.terminalConnect, "cannot connect to the terminal socket \(path): \(error.message)", at: call.head)
    }
  }

  /// Relays until the process's terminal closes (false) or the user detaches (true).
  /// `size` passes this terminal's window size on to the process's pty.
  static func attach(path: String, _ s: DaemonSession, _ call: Call, size: TerminalSize?) throws -> Bool {
    guard let socket = try connect(path, s, call) else {
      throw ShellError(.terminalConnect, "cannot connect to the terminal socket \(path): it is gone", at: call.head)
    }
    return try attach(socket, call, size: size)
  }

  /// Relays on a connected terminal socket (closed afterwards). With `size`, this terminal's
  /// window size is passed on first (before any key is relayed, so what the process reads
  /// after it sees the size) and again after each SIGWINCH; a failure to pass it on is said on
  /// stderr once the terminal is restored.
  static func attach(_ socket: Socket, _ call: Call, size: TerminalSize?) throws -> Bool {
    var size = size
    let detached = try relay(socket, call, size: &size)
    if let failure = size?.failure {
      StandardError.write("xcsh: the window size was not passed on to the terminal: \(failure)\n")
    }
    return detached
  }

  private static func relay(_ socket: Socket, _ call: Call, size: inout TerminalSize?) throws -> Bool {
    defer { try? socket.close() }
    // SIGWINCH wakes the loop through a pipe of its own; the handler does nothing else.
    let winch = size == nil ? -1 : cs_winch_begin()
    defer { if winch >= 0 { cs_winch_end() } }
    size?.update(at: call.head)
    call.evaluator.output.flush()
    var saved = termios()
    let raw = isatty(0) == 1 && tcgetattr(0, &saved) == 0
    if raw {
      var t = saved
      cfmakeraw(&t)
      _ = tcsetattr(0, TCSANOW, &t)
    }
    defer { if raw { _ = tcsetattr(0, TCSANOW, &saved) } }
    var stdinOpen = true
    var afterCtrlP = false
    var buf = [UInt8](repeating: 0, count: 16384)
    while true {
      var fds = [pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)]
      if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
      if cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
      if winch >= 0 { fds.append(pollfd(fd: winch, events: Int16(POLLIN), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0, errno != EINTR { break }
      try call.evaluator.checkInterrupt()
      if winch >= 0, fds.last?.revents ?? 0 != 0 {
        cs_winch_drain()
        size?.update(at: call.head)
      }
      if fds[0].revents != 0 {
        let n = read(socket.rawValue, &buf, buf.count)
        if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { return false }
        if n > 0 { writeAll(1, buf[0..<n]) }
      }
      if stdinOpen, fds[1].revents != 0 {
        let n = read(0, &buf, buf.count)
        if n <= 0 {
          if n == 0 || (errno != EINTR && errno != EAGAIN) { stdinOpen = false }
          continue
        }
        var out: [UInt8] = []
        for b in buf[0..<n] {
          if afterCtrlP {
            afterCtrlP = false
            if b == UInt8(ascii: "q") {
              writeAll(socket.rawValue, out[...])
              return true
            }
            continue  // Ctrl-P and the next byte are swallowed, as in xc
          }
          if b == 0x10 { afterCtrlP = true } else { out.append(b) }
        }
        writeAll(socket.rawValue, out[...])
      }
    }
    return false
  }

  static func writeAll(_ fd: CInt, _ bytes: ArraySlice<UInt8>) {
    var rest = bytes
    while !rest.isEmpty {
      let n = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        return
      }
      rest = rest.dropFirst(n)
    }
  }

  /// Waits until `fd` is readable; Ctrl-C or SIGTERM interrupts.
  static func waitReadable(_ fd: CInt, _ call: Call, milliseconds: Int32 = -1) throws -> Bool {
    var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
    if cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
    _ = poll(&fds, nfds_t(fds.count), milliseconds)
    try call.evaluator.checkInterrupt()
    return fds[0].revents != 0
  }
}

/// `run -t`: main on a terminal, attached here; the exit status is returned as for a
/// foreground run, unless the user detaches (then the container object).
enum TerminalRun {
  static func run(_ request: InstantiateRequest, _ call: Call, _ s: DaemonSession) throws -> Pipe {
    let started = try ObjectArgs.eventfd(call)
    defer { close(started.rawValue) }
    let exited = try ObjectArgs.eventfd(call)
    defer { close(exited.rawValue) }
    var r = request
    r.useTty = true
    if let term = getenv("TERM") { r.envs["TERM"] = String(cString: term) }
    r.mainStartedNotify = FDRef(started.fileDescriptor)
    r.mainExitedFd = FDRef(exited.fileDescriptor)
    // As xc's client: this shell's stdio, which the daemon ignores with use_tty. Not to a
    // remote host: there each would become a stream (docs/remote.md), and the one reading
    // stdin would take keys meant for the terminal relay.
    if s.routedRemote() == nil {
      if call.has("interactive") { r.stdin = FDRef(.standardInput) }
      r.stdout = FDRef(.standardOutput)
      r.stderr = FDRef(.standardError)
    }
    let id = try s.call(r, at: call.head).id
    do {
      while try !TerminalRelay.waitReadable(started.rawValue, call) {}
      let shown = try s.call(ShowContainerNocacheRequest(id: id), at: call.head).runningContainer
      if let fault = shown.fault {
        throw ShellError(.containerFault, "container `\(id)` could not start main: \(fault)", at: call.head)
      }
      guard let path = shown.processes["main"]?.spawnInfo?.terminalSocket else {
        throw ShellError(.terminalMissing, "container `\(id)` has no terminal socket for main", at: call.head)
      }
      // A process that ended at once may have taken its terminal socket with it: then only
      // its exit status is left to report.
      if let socket = try TerminalRelay.connect(path, s, call) {
        if try TerminalRelay.attach(socket, call, size: TerminalSize.forProcess(s, container: id, at: call.head)) {
          return .value(try ObjectArgs.show(s, .string(id), at: call.head))
        }
      } else if try !TerminalRelay.waitReadable(exited.rawValue, call, milliseconds: 0) {
        throw ShellError(.terminalConnect, "cannot connect to the terminal socket \(path): it is gone", at: call.head)
      }
    } catch {
      _ = try? s.call(KillContainerRequest(name: id), at: call.head)
      throw error
    }
    let status = try Foreground.waitForExit(exited, call) { _ = try? s.call(KillContainerRequest(name: id), at: call.head) }
    return try Foreground.result(status, what: .container, name: id, call)
  }
}

/// `exec -t`: the process on a new terminal, attached here (xc's `exec -t`: no stdio
/// descriptors, `TERM` forwarded, the exit status from `notify`).
enum ExecTerminal {
  static func run(_ request: ExecRequest, _ call: Call, _ s: DaemonSession) throws -> Pipe {
    let exited = try ObjectArgs.eventfd(call)
    defer { close(exited.rawValue) }
    var r = request
    r.useTty = true
    if let term = getenv("TERM") { r.envs["TERM"] = String(cString: term) }
    r.notify = FDRef(exited.fileDescriptor)
    let info = try s.call(r, at: call.head)
    if let path = info.terminalSocket, let socket = try TerminalRelay.connect(path, s, call) {
      if try TerminalRelay.attach(socket, call, size: size(of: info, r.name, s, call)) { return .empty }
    }
    let status = try Foreground.waitForExit(exited, call, stop: nil)
    return try Foreground.result(status, what: .process, name: "\(request.arg0) in \(request.name)", call)
  }

  /// The window size passer for the exec'd process, found by its pid in the container's
  /// record (xc's exec answer has no id); nil when the daemon cannot resize or the process
  /// has already gone.
  static func size(of info: SpawnInfo, _ container: String, _ s: DaemonSession, _ call: Call) -> TerminalSize? {
    guard TerminalSize.forProcess(s, container: container, at: call.head) != nil,
      let shown = try? s.call(ShowContainerRequest(id: container), at: call.head).runningContainer,
      let process = shown.processes.first(where: { $0.key != "main" && $0.value.spawnInfo?.pid == info.pid })?.key
    else { return nil }
    return TerminalSize(s, container: shown.id, process: process)
  }
}
