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
          .required("image", .object(.image), "The image: a reference (`busybox:latest`) or an image object."),
          .rest("command", .string, "The program and its arguments (else the image's entry point)."),
        ] + CreateFlags.parameters + [
          .switch("detach", short: "d", "Return the container object at once."),
          .switch("interactive", short: "i", "Give main standard input: what is piped into `run`, else this shell's."),
          .switch("tty", short: "t", "Run main on a terminal and attach to it (`-it`); Ctrl-P q detaches. Its window size follows this terminal's (Linux xcd: `xcsh.resize`)."),
          .switch("replace", "Idempotent (needs `--name`): keep a running container of that name from the same image and command, else replace it; returns `{action: created|unchanged|replaced, object}`."),
        ],
        examples: [
          Example("Run a command", "run busybox:latest -- echo hello"),
          Example("A detached web server with a published port", "run nginx:1 -d --name web -p 8080:80"),
          Example("A shell on a terminal", "run -it busybox:latest -- sh"),
          Example("Text into a container", "'hello' | run -i busybox:latest -- tr a-z A-Z"),
        ],
        details: """
          In the foreground the container's output is this shell's (or, captured, a string) and its \
          exit status is the command's: a non-zero one is an error with `exit_code`. `-d` returns the \
          container object. Container objects carry the daemon's record plus `status` \
          (created|running|exited|faulted|dead), `exit_code` and `ip`.
          """)
    ) { call, input in
      try run(call, s, input: input)
    }
  }

  static func run(_ call: Call, _ s: DaemonSession, input: Pipe = .empty) throws -> Pipe {
    // An image or network object runs on the daemon it came from, where the image or the
    // network is (docs/remote.md).
    try DaemonRoute.pipe(ofAll: ObjectArgs.routing(call), command: "run", at: call.head) { try runHere(call, s, input: input) }
  }

  private static func runHere(_ call: Call, _ s: DaemonSession, input: Pipe) throws -> Pipe {
    let image = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
    let argv = try call.restValues().map { try $0.asString() }
    let opened = CreateFlags.Opened()
    defer { opened.close() }
    var request = try CreateFlags.request(call, image: image, opened: opened, remote: try s.remoteHost(at: call.head))
    try ResourceCommands.apply(&request, call, s)
    try LifecycleFlags.apply(&request, call, s, detached: call.has("detach") || call.has("replace"))
    // xc always sends an entry point for `run`: a null name means the image's default.
    request.entryPoint = EntryPoint(entryPoint: argv.first, entryPointArgs: Array(argv.dropFirst()))
    if call.has("replace") { return try Replace.run(request, call, s) }
    if call.has("detach") {
      if call.has("tty") { request.useTty = true }
      let id = try s.call(request, at: call.head).id
      return .value(ObjectArgs.brief(try ObjectArgs.show(s, .string(id), at: call.head)))
    }
    if call.has("tty") { return try TerminalRun.run(request, call, s) }
    return try foreground(request, call, s, input: input)
  }

  /// `-e NAME=VALUE` (repeatable, or a list) as a dictionary.
  static func environment(_ call: Call) throws -> [String: String] {
    var envs: [String: String] = [:]
    for item in call.value("env")?.listOrSelf() ?? [] {
      let text = try item.asString()
      guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
        throw ShellError(.argsValue, "`-e` takes NAME=VALUE, found `\(text)`", at: item.span.isKnown ? item.span : call.span)
      }
      envs[String(text[..<eq])] = String(text[text.index(after: eq)...])
    }
    return envs
  }

  static func foreground(_ request: InstantiateRequest, _ call: Call, _ s: DaemonSession, input: Pipe = .empty) throws -> Pipe {
    var id = ""
    // `-i` with something piped in: main reads that (through a pipe fed here), else our stdin.
    let stdin = call.has("interactive") && !input.isEmpty ? try StdinFeed(call) : nil
    defer { stdin?.abandon() }
    let started = try EventFD.create()
    defer { close(started.rawValue) }
    // Main has exited when Foreground.run returns; the daemon tears the container down after
    // that. Waiting for it means the next line finds its name, addresses and mounts released.
    defer {
      if !id.isEmpty && !request.persist {
        try? ObjectCommands.waitTornDown([id], s, call, timeout: 30_000_000_000)
      }
    }
    return try Foreground.run(call, what: .container, stop: { _ = try? s.call(KillContainerRequest(name: id), at: call.head) }) {
      stdout, stderr, exited in
      var r = request
      // The reference client's descriptor order: started, exited, (stdin,) stdout, stderr.
      r.mainStartedNotify = FDRef(started.fileDescriptor)
      r.mainExitedFd = exited
      if call.has("interactive") { r.stdin = stdin?.reader ?? FDRef(.standardInput) }
      r.stdout = stdout
      r.stderr = stderr
      id = try s.call(r, at: call.head).id
      stdin?.start(input)
      return id
    }
  }
}

/// Runs a daemon process in the foreground: its stdout is ours (or a pipe read into a string when
/// the output is captured), its stderr ours, its exit comes on an eventfd; Ctrl-C or SIGTERM
/// stops it through the daemon, and a non-zero exit is an error with `exit_code`.
enum Foreground {
  /// What runs in the foreground: names it in messages, the error's payload and its code.
  enum Subject: String {
    case container, process
    var failed: ShellError.Code {
      switch self {
      case .container: .containerFailed
      case .process: .processFailed
      }
    }
  }

  /// `start` gets the stdout, stderr and exit-eventfd references, starts the process and returns
  /// a name for messages; `stop` asks the daemon to stop it.
  /// Without `stop` (the daemon cannot stop an exec'd process), an interrupt stops waiting and
  /// leaves the process running.
  static func run(
    _ call: Call, what: Subject, stop: (() -> Void)?,
    start: (_ stdout: FDRef, _ stderr: FDRef, _ exited: FDRef) throws -> String
  ) throws -> Pipe {
    let exited: EventFD
    do { exited = try EventFD.create() } catch {
      throw ShellError(.systemEventfd, "cannot create an eventfd: \(error)", at: call.head)
    }
    defer { close(exited.rawValue) }
    var capture: [Int32] = [-1, -1]
    if !call.sink {
      guard pipe(&capture) == 0 else { throw ShellError(.systemPipe, "cannot create a pipe", at: call.head) }
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
    if status.exitCode == 0, capture[0] >= 0 {
      return .value(.string(String(decoding: text, as: UTF8.self).trimmingTrailingNewline(), call.head))
    }
    return try result(status, what: what, name: name, call)
  }

  /// Nothing for a zero exit status; else an error carrying the exit code.
  static func result(_ status: WaitStatus, what: Subject, name: String, _ call: Call) throws -> Pipe {
    if status.exitCode == 0 { return .empty }
    var e = ShellError(
      what.failed,
      status.exitCode.map { "\(what.rawValue) `\(name)` exited with status \($0)" }
        ?? "\(what.rawValue) `\(name)` was killed by signal \(status.terminationSignal ?? 0)",
      at: call.head, exitCode: status.shellExitCode, command: call.name)
    e.payload[what.rawValue] = name
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
