import CSupport
import SystemPackage
import XCIPC
import XCShell
import XCSystem

#if canImport(Glibc)
  import Glibc
#endif

/// `run IMAGE [-- CMD ARGS…]`: instantiate a container and run it in the foreground, or with
/// `-d` return it as an object at once.
///
/// In the foreground the container's stdout and stderr are this process's (or, when the output is
/// captured — `(run …)` — a pipe read into a string), and its exit status is the command's: a
/// non-zero one is an error carrying `exit_code`, like an external command's. Ctrl-C or SIGTERM
/// stops the container (through the daemon) and then unwinds with the defers.
enum RunCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "run", category: .objects, summary: "Run a container from an image (IPC `instantiate`).",
        parameters: [
          .required("image", .string, "The image reference (`busybox:latest`)."),
          .rest("command", .string, "The program and its arguments (else the image's entry point)."),
          .named("name", .string, "The container's name."),
          .named("env", .any, short: "e", "Environment variables: `NAME=VALUE`, or a list of them."),
          .named("hostname", .string, "The container's host name."),
          .switch("detach", short: "d", "Return the container object at once."),
        ],
        examples: [Example("Run a command", "run busybox:latest -- echo hello")])
    ) { call, _ in
      try run(call, s)
    }
  }

  static func run(_ call: Call, _ s: DaemonSession) throws -> Pipe {
    let image = try call.require("image").asString()
    let argv = try call.restValues().map { try $0.asString() }
    var request = InstantiateRequest(
      imageReference: image,
      entryPoint: argv.first.map { EntryPoint(entryPoint: $0, entryPointArgs: Array(argv.dropFirst())) },
      name: try call.string("name"))
    request.hostname = try call.string("hostname")
    request.envs = try environment(call)
    if call.has("detach") {
      let id = try s.call(request, at: call.head).id
      let shown = try s.call(ShowContainerRequest(id: id), at: call.head)
      return .value(try DaemonSession.value(shown.runningContainer, as: .container))
    }
    return try foreground(request, call, s)
  }

  /// `-e NAME=VALUE` (repeatable, or a list) as a dictionary.
  static func environment(_ call: Call) throws -> [String: String] {
    var envs: [String: String] = [:]
    for item in try call.value("env")?.listOrSelf() ?? [] {
      let text = try item.asString()
      guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
        throw ShellError("args.value", "`-e` takes NAME=VALUE, found `\(text)`", at: item.span.isKnown ? item.span : call.span)
      }
      envs[String(text[..<eq])] = String(text[text.index(after: eq)...])
    }
    return envs
  }

  static func foreground(_ request: InstantiateRequest, _ call: Call, _ s: DaemonSession) throws -> Pipe {
    var id = ""
    return try Foreground.run(call, what: "container", stop: { _ = try? s.call(KillContainerRequest(name: id), at: call.head) }) {
      stdout, stderr, exited in
      var r = request
      r.stdout = stdout
      r.stderr = stderr
      r.mainExitedFd = exited
      id = try s.call(r, at: call.head).id
      return id
    }
  }
}

/// Runs a daemon process in the foreground: its stdout is ours (or a pipe read into a string when
/// the output is captured), its stderr ours, its exit comes on an eventfd; Ctrl-C or SIGTERM
/// stops it through the daemon, and a non-zero exit is an error with `exit_code`.
enum Foreground {
  /// `start` gets the stdout, stderr and exit-eventfd references, starts the process and returns
  /// a name for messages; `stop` asks the daemon to stop it.
  /// Without `stop` (the daemon cannot stop an exec'd process), an interrupt stops waiting and
  /// leaves the process running.
  static func run(
    _ call: Call, what: String, stop: (() -> Void)?,
    start: (_ stdout: FDRef, _ stderr: FDRef, _ exited: FDRef) throws -> String
  ) throws -> Pipe {
    let exited: EventFD
    do { exited = try EventFD.create() } catch {
      throw ShellError("system.eventfd", "cannot create an eventfd: \(error)", at: call.head)
    }
    defer { close(exited.rawValue) }
    var capture: [Int32] = [-1, -1]
    if !call.sink {
      guard pipe(&capture) == 0 else { throw ShellError("system.pipe", "cannot create a pipe", at: call.head) }
    } else {
      call.evaluator.output.flush()
    }
    let stdout = FDRef(FileDescriptor(rawValue: capture[1] >= 0 ? capture[1] : 1))
    let name: String
    do {
      name = try start(stdout, FDRef(FileDescriptor(rawValue: 2)), FDRef(exited.fileDescriptor))
    } catch {
      if capture[0] >= 0 {
        close(capture[0])
        close(capture[1])
      }
      throw error
    }
    var text: [UInt8] = []
    if capture[0] >= 0 {
      close(capture[1])  // the process holds its own copy now
      var buf = [UInt8](repeating: 0, count: 65536)
      var stopped = false
      while true {
        let n = read(capture[0], &buf, buf.count)
        if n > 0 {
          text.append(contentsOf: buf[0..<n])
        } else if n == 0 || errno != EINTR {
          break
        } else if cs_signal_pending() != 0, !stopped {
          stopped = true
          guard let stop else {
            close(capture[0])
            try call.evaluator.checkInterrupt()
            break
          }
          stop()
        }
      }
      close(capture[0])
    }
    let status = try waitForExit(exited, call, stop: stop)
    if status.exitCode == 0 {
      guard capture[0] >= 0 else { return .empty }
      return .value(.string(String(decoding: text, as: UTF8.self).trimmingTrailingNewline(), call.head))
    }
    var e = ShellError(
      ShellError.Code(rawValue: "\(what).failed"),
      status.exitCode.map { "\(what) `\(name)` exited with status \($0)" }
        ?? "\(what) `\(name)` was killed by signal \(status.terminationSignal ?? 0)",
      at: call.head, exitCode: status.shellExitCode, command: call.name)
    e.payload[what] = name
    throw e
  }

  /// Waits for the exit notification, stopping the process if we are interrupted meanwhile.
  static func waitForExit(_ fd: EventFD, _ call: Call, stop: (() -> Void)?) throws -> WaitStatus {
    var interrupted: Int32 = 0
    while true {
      var fds = [pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)]
      if interrupted == 0, cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
      _ = poll(&fds, nfds_t(fds.count), -1)
      let sig = cs_signal_pending()
      if sig != 0, interrupted == 0 {
        guard let stop else { try call.evaluator.checkInterrupt(); continue }
        interrupted = sig
        stop()
      }
      if fds[0].revents != 0, let v = try? fd.read(), let status = ProcessNotification.decodeExit(v) {
        if interrupted != 0 { try call.evaluator.checkInterrupt() }
        return status
      }
    }
  }
}

extension String {
  func trimmingTrailingNewline() -> String {
    var s = self
    if s.hasSuffix("\n") { s.removeLast() }
    return s
  }
}
