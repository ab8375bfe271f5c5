import Foundation
import Glibc
import SystemPackage
import XCIPC
import XCShell
import XCSystem

/// `wait CONTAINER --exit | --running | --port N | --log TEXT | --exec CMD`: polls a condition
/// every `--every` until `--timeout`; Ctrl-C interrupts. Returns the container object.
enum WaitCommand {
  enum Condition {
    case exit, running, healthy
    case port(Int)
    case log(String)
    case exec([String])

    var description: String {
      switch self {
      case .exit: "to exit"
      case .running: "to be running"
      case .healthy: "to be healthy"
      case .port(let p): "to accept connections on port \(p)"
      case .log(let t): "to log \(t.debugDescription)"
      case .exec(let argv): "for `\(argv.joined(separator: " "))` to succeed"
      }
    }
  }

  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "wait", category: .objects,
        summary: "Wait, with a deadline, until a container meets a condition (polls `show_container`).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .switch("exit", "Until main has exited (or the container is gone)."),
          .switch("running", "Until main is running."),
          .switch("healthy", "Until its health check (`--health-cmd`) passes; fails once a check during the wait finds it unhealthy."),
          .named("port", .int, "Until a TCP connection to the container's address (`ip`, else 127.0.0.1) on this port succeeds."),
          .named("log", .string, "Until main's log (IPC `xcsh.logs`, or its terminal log) contains this text."),
          .named("exec", .any, "Until this command exits 0 in the container: a list (argv) or a string (run by `/bin/sh -c`)."),
          .named("timeout", .duration, "Give up after this long.", default: Value(.duration(60_000_000_000))),
          .named("every", .duration, "Poll this often.", default: Value(.duration(250_000_000))),
        ],
        examples: [
          Example("Wait for a web server", "let c = (run nginx:1 -d); wait $c --port 80 --timeout 30s"),
          Example("The exit code of a finished container", "wait $c --exit | get exit_code"),
          Example("Wait for a health check to pass", "let c = (run busybox:latest -d --health-cmd 'test -e /tmp/ready' --health-interval 1s -- sleep 100); wait $c --healthy --timeout 30s"),
        ],
        details: "A timeout is an error (`wait.timeout`) naming the condition. `--running`, `--healthy`, `--port`, `--log` and `--exec` fail at once if the container exits first; `--healthy` also when a check during the wait finds it unhealthy (`wait.unhealthy`; one unhealthy before the wait gets its next check) or it has no health check.")
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      // Every call about a container object goes to its host, also while a stream is read.
      return try DaemonRoute.pipe(of: target) { try waitHere(target, s, call) }
    }
  }

  private static func waitHere(_ target: Value, _ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    let condition = try condition(call)
    let timeout = try call.duration("timeout") ?? 60_000_000_000
    let every = max(1_000_000, try call.duration("every") ?? 250_000_000)
    // Resolve once, then poll by id: a name stops resolving once the container is gone.
    let first = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
      try s.call(ShowContainerRequest(id: ref), at: call.head)
    }
    if s.modes.dryRun {
      // Nothing was started, so nothing would come: the plan says what a real run waits for.
      StandardError.write("+ wait container=\(DryRunCaller.quoted(first.runningContainer.name)) until=\(DryRunCaller.quoted(condition.description)) timeout=\(seconds(timeout))\n")
      return .value(ObjectArgs.brief(try ObjectArgs.container(first.runningContainer, dead: first.containerDead)))
    }
    let id = first.runningContainer.id
    var last = first
    let deadline = Clock.now + timeout
    while true {
      let ended = last.containerDead || ObjectArgs.status(last.runningContainer, dead: false) == "exited"
        || ObjectArgs.status(last.runningContainer, dead: false) == "faulted"
      if try met(condition, last.runningContainer, ended: ended, s, call, deadline: deadline, first: first.runningContainer) {
        return .value(ObjectArgs.brief(try ObjectArgs.container(last.runningContainer, dead: last.containerDead)))
      }
      if ended, case .exit = condition {} else if ended {
        throw ShellError(
          .waitExited, "container `\(last.runningContainer.name)` ended while waiting \(condition.description)",
          at: call.head)
      }
      guard Clock.now + every <= deadline else {
        throw ShellError(
          .waitTimeout, "timed out after \(seconds(timeout)) waiting for `\(last.runningContainer.name)` \(condition.description)",
          at: call.head)
      }
      try Clock.sleep(milliseconds: every / 1_000_000, call)
      do {
        last = try s.call(ShowContainerRequest(id: id), at: call.head)
      } catch let e as ShellError where ObjectArgs.isNotFound(e) {
        // Gone without a trace: it has ended.
        last.containerDead = true
      }
    }
  }

  static func seconds(_ ns: Int64) -> String {
    ns % 1_000_000_000 == 0 ? "\(ns / 1_000_000_000)s" : "\(ns / 1_000_000)ms"
  }

  static func condition(_ call: Call) throws -> Condition {
    var found: [Condition] = []
    if call.has("exit") { found.append(.exit) }
    if call.has("running") { found.append(.running) }
    if call.has("healthy") { found.append(.healthy) }
    if let p = try call.int("port") {
      guard (1...65535).contains(p) else {
        throw ShellError(.argsValue, "`--port \(p)`: not a port (1-65535)", at: call.span)
      }
      found.append(.port(Int(p)))
    }
    if let t = try call.string("log") { found.append(.log(t)) }
    if let e = call.value("exec"), !e.isNull {
      if case .string(let cmd) = e.kind {
        found.append(.exec(["/bin/sh", "-c", cmd]))
      } else {
        let argv = try e.listOrSelf().map { try $0.asString() }
        guard !argv.isEmpty else { throw ShellError(.argsValue, "`--exec` needs a command", at: call.span) }
        found.append(.exec(argv))
      }
    }
    guard found.count == 1 else {
      throw ShellError(
        .argsMissing, found.isEmpty ? "`wait` needs a condition" : "`wait` takes one condition, found \(found.count)",
        at: call.span, help: "one of --exit, --running, --healthy, --port N, --log TEXT, --exec CMD")
    }
    return found[0]
  }

  static func met(
    _ c: Condition, _ m: ContainerManifest, ended: Bool, _ s: DaemonSession, _ call: Call, deadline: Int64,
    first: ContainerManifest
  ) throws -> Bool {
    switch c {
    case .exit: return ended
    case .running: return !ended && ObjectArgs.status(m, dead: false) == "running"
    case .healthy:
      guard let health = m.xcshHealth else {
        throw ShellError(
          .waitNoHealthCheck, "container `\(m.name)` has no health check to wait for", at: call.head,
          help: "give it one with `run … --health-cmd CMD` (needs the Linux xcd)")
      }
      // Unhealthy by a check made during the wait fails it; one already unhealthy when the wait
      // began gets its next check (the cause may have been fixed meanwhile).
      let before = first.xcshHealth
      let stale = before?.status == "unhealthy" && health.lastCheckAt == before?.lastCheckAt
      if health.status == "unhealthy" && !stale {
        let output = (health.lastOutput ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        throw ShellError(
          .waitUnhealthy,
          "container `\(m.name)` is unhealthy: its health check failed \(health.failingStreak) times in a row"
            + (output.isEmpty ? "" : " (last output: \(output))"),
          at: call.head)
      }
      return !ended && health.status == "healthy"
    case .port(let p): return !ended && connects(ObjectArgs.ip(m) ?? "127.0.0.1", p)
    case .log(let text): return try logContains(m, text, s, call)
    case .exec(let argv):
      if ended { return false }
      return try execSucceeds(m.id, argv, s, call, deadline: deadline)
    }
  }

  /// One TCP connect, bounded by a second.
  static func connects(_ host: String, _ port: Int) -> Bool {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICHOST
    var res: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { return false }
    defer { freeaddrinfo(res) }
    let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return true }
    guard errno == EINPROGRESS else { return false }
    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    guard poll(&p, 1, 1000) == 1 else { return false }
    var err: Int32 = 0
    var len = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
    return err == 0
  }

  /// Main's log files: from `xcsh.logs`, else the terminal log in the record. A log not
  /// there (yet) does not contain it; a host whose relay cannot read files is an error.
  static func logContains(_ m: ContainerManifest, _ text: String, _ s: DaemonSession, _ call: Call) throws -> Bool {
    var files: [String] = []
    if let r = try? s.call(LogsRequest(name: m.id, process: "main"), at: call.head) {
      files += [r.stdoutLogFile, r.stderrLogFile].compactMap { $0 }
    }
    if let info = m.processes["main"]?.spawnInfo {
      files += [info.stdoutLogFile, info.stderrLogFile].compactMap { $0 }
    }
    // Where the daemon is: here, or on its host through the relay.
    let reader = LogFileReader.routed(s)
    for f in Set(files) {
      try reader.check(f, at: call.head)
      if let bytes = try? reader.contents(f, at: call.head), LogsCommand.text(bytes).contains(text) {
        return true
      }
    }
    return false
  }

  /// Runs `argv` in the container (output discarded) and waits for its exit, within the deadline.
  static func execSucceeds(_ id: String, _ argv: [String], _ s: DaemonSession, _ call: Call, deadline: Int64) throws -> Bool {
    let exited = try ObjectArgs.eventfd(call)
    defer { close(exited.rawValue) }
    // One /dev/null to read and another to write: on a remote host the relay carries each
    // descriptor as one kind (input or output), and refuses one used as both.
    let nullIn = open("/dev/null", O_RDONLY | O_CLOEXEC)
    let nullOut = open("/dev/null", O_WRONLY | O_CLOEXEC)
    defer {
      close(nullIn)
      close(nullOut)
    }
    let devnull = FDRef(FileDescriptor(rawValue: nullOut))
    let r = ExecRequest(
      name: id, arg0: argv[0], args: Array(argv.dropFirst()), envs: [:], stdin: FDRef(FileDescriptor(rawValue: nullIn)),
      stdout: devnull, stderr: devnull, notify: FDRef(exited.fileDescriptor), useTty: false)
    do { _ = try s.call(r, at: call.head) } catch let e as ShellError where e.code.rawValue.hasPrefix("daemon.") {
      return false  // e.g. the program is not there yet
    }
    while true {
      let left = (deadline - Clock.now) / 1_000_000
      guard left > 0 else { return false }
      if try TerminalRelay.waitReadable(exited.rawValue, call, milliseconds: Int32(min(left, 1000))) {
        let v = (try? exited.read()) ?? 0
        return ProcessNotification.decodeExit(v)?.exitCode == 0
      }
    }
  }
}
