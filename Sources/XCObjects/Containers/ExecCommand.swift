import XCIPC
import XCShell

/// `exec CONTAINER -- CMD ARGS…` and `show CONTAINER`.
enum ContainerCommands {
  static func exec(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "exec", category: .objects,
        summary: "Run a program in a running container, in the foreground (IPC `exec`).",
        parameters: [
          .required("container", .object(.container), "A name, an id or a container object."),
          .rest("command", .string, "The program and its arguments."),
          .named("env", .any, short: "e", "Environment variables: `NAME=VALUE`, or a list of them."),
          .named("user", .string, short: "u", "Run as this user."),
          .named("group", .string, short: "g", "Run with this group."),
          .switch("tty", short: "t", "Run on a terminal and attach to it (Ctrl-P q detaches); its window size follows this terminal's (Linux xcd: `xcsh.resize`)."),
          .switch("detach", short: "d", "Run in the background with its output logged (xcd's `xcsh_log`); returns `{container, process, pid}`: read the output with `logs CONTAINER --process ID`."),
        ],
        examples: [
          Example("Read a file in a container", "exec web -- cat /etc/hostname"),
          Example("A background job whose output is logged, then its log", "let job = (exec web -d -- sh -c 'echo start; echo oops >&2')\nlogs web --process $job.process"),
        ],
        details: """
          Like `docker exec`, an exec'd process's output goes to this shell; it is not part of the \
          container's log (`logs` shows main's). With `--detach` xcd logs it instead, as records of \
          that process (kept with an ended container like main's log).
          """)
    ) { call, _ in
      // A container object from another host is exec'ed there.
      try DaemonRoute.withHost(of: try call.require("container")) { try execHere(s, call) }
    }
  }

  static func execHere(_ s: DaemonSession, _ call: Call) throws -> Pipe {
    let name = try ObjectCommands.containerName(try call.require("container"), at: call.head)
    let argv = try call.restValues().map { try $0.asString() }
    guard let program = argv.first else {
      throw ShellError(.argsMissing, "`exec` needs a program to run after the container", at: call.span)
    }
    var request = ExecRequest(name: name, arg0: program, args: Array(argv.dropFirst()))
    request.envs = try RunCommand.environment(call)
    request.user = try call.string("user")
    request.group = try call.string("group")
    if call.has("detach") { return try detached(request, name, call, s) }
    if call.has("tty") { return try ExecTerminal.run(request, call, s) }
    return try Foreground.run(call, what: .process, stop: nil) { stdout, stderr, exited in
      // As xc's client: this shell's stdin, then the output descriptors, then the exit eventfd.
      request.stdin = FDRef(.standardInput)
      request.stdout = stdout
      request.stderr = stderr
      request.notify = exited
      // ENOENT is also "no such program in the container": the list decides which.
      try ObjectArgs.about(.container, name, at: call.head, exists: { try ObjectArgs.isLive(s, name, at: call.head) }) {
        _ = try s.call(request, at: call.head)
      }
      return "\(program) in \(name)"
    }
  }

  /// `exec --detach`: no descriptors, the output logged by xcd; the process's id found by its
  /// pid in the container's record (xc's exec answer has no id).
  static func detached(_ request: ExecRequest, _ name: String, _ call: Call, _ s: DaemonSession) throws -> Pipe {
    if call.has("tty") {
      throw ShellError(.argsConflict, "`exec --detach` runs without a terminal: leave out `--tty`", at: call.span)
    }
    if try !s.servesExtensions(at: call.head) {
      throw ShellError(
        .daemonUnsupported, "`exec --detach` is not supported by this daemon: it does not serve the xcsh extensions (xc's daemon would send the output to /dev/null)",
        at: call.span, help: "run it in the foreground, or use the Linux xcd")
    }
    var request = request
    request.xcshLog = true
    let info = try ObjectArgs.about(.container, name, at: call.head, exists: { try ObjectArgs.isLive(s, name, at: call.head) }) {
      try s.call(request, at: call.head)
    }
    let shown = try s.call(ShowContainerRequest(id: name), at: call.head).runningContainer
    let process = shown.processes.first { $0.key != "main" && $0.value.spawnInfo?.pid == info.pid }?.key
    return .value(
      .record(
        Record([
          ("container", .string(shown.id, call.head)), ("process", process.map { .string($0, call.head) } ?? .null),
          ("pid", .int(Int64(info.pid), call.head)),
        ]), call.head))
  }

  static func show(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "show", category: .objects, summary: "A container's record, as a container object (IPC `show_container`).",
        parameters: [.optional("container", .object(.container), "A name, an id or a container object (or piped in).")])
    ) { call, input in
      let target = try call.value("container") ?? input.collect()
      return .value(try ObjectArgs.show(s, target, at: call.head))
    }
  }
}
