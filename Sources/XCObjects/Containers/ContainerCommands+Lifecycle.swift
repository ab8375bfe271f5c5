import CSupport
import Foundation
import Glibc
import SystemPackage
import XCIPC
import XCShell
import XCSystem

/// `create`, `run-main`, `attach`, `link`, `commit`: a container's life after `run`'s.
extension ContainerCommands {
  static func create(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "create", category: .objects,
        summary: "Create a container without running anything in it (IPC `instantiate` with `create_only`, then `rdr` per `-p`).",
        parameters: [
          .required("image", .object(.image), "The image: a reference or an image object."),
          .rest("command", .string, "A main program for a later `run-main` (xc's `create` has none)."),
        ] + CreateFlags.parameters,
        examples: [Example("Create, then start main", "let c = (create busybox:latest --name w -- sleep 100); run-main $c")],
        details: "Returns the container object; its `status` is `created`.")
    ) { call, _ in
      // An image or network object is used on the daemon it came from (docs/remote.md).
      try DaemonRoute.pipe(ofAll: ObjectArgs.routing(call), command: "create", at: call.head) { try createHere(s, call) }
    }
  }

  private static func createHere(_ s: DaemonSession, _ call: Call) throws -> XCShell.Pipe {
    let image = try ObjectArgs.imageRef(try call.require("image"), at: call.head)
    let argv = try call.restValues().map { try $0.asString() }
    let opened = CreateFlags.Opened()
    defer { opened.close() }
    var r = try CreateFlags.request(call, image: image, opened: opened, remote: try s.remoteHost(at: call.head))
    try ResourceCommands.apply(&r, call, s)
    try LifecycleFlags.apply(&r, call, s, detached: true)
    // As xc's `create`: nothing runs, the resolv.conf is left alone, ports are added after.
    r.createOnly = true
    r.mainNorun = true
    r.initNorun = true
    r.deinitNorun = true
    if call.value("dns") == nil && call.value("dns-search") == nil && !call.has("empty-dns") { r.dns = .nop }
    r.entryPoint = argv.isEmpty ? nil : EntryPoint(entryPoint: argv[0], entryPointArgs: Array(argv.dropFirst()))
    let publish = r.portRedirections
    r.portRedirections = []
    let id = try s.call(r, at: call.head).id
    for p in publish { _ = try s.call(RdrRequest(name: id, redirection: p), at: call.head) }
    return .value(ObjectArgs.brief(try ObjectArgs.show(s, .string(id), at: call.head)))
  }

  static func runMain(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "run-main", category: .objects,
        summary: "Start the main process of a container created without it (IPC `run_main`).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .switch("detach", short: "d", "Do not wait for main to start."),
        ],
        details: "Waits until main has started (unless `-d`) and returns the container object.")
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      let id = try ObjectArgs.withContainer(s, target, at: call.head) { ref -> String in
        if call.has("detach") { return try s.call(RunMainRequest(name: ref), at: call.head).id }
        let started = try ObjectArgs.eventfd(call)
        defer { close(started.rawValue) }
        let id = try s.call(RunMainRequest(name: ref, notify: FDRef(started.fileDescriptor)), at: call.head).id
        while try !TerminalRelay.waitReadable(started.rawValue, call) {}
        return id
      }
      return .value(try DaemonRoute.withHost(of: target) { try ObjectArgs.show(s, .string(id), at: call.head) })
    }
  }

  static func attach(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "attach", category: .objects,
        summary: "Attach this terminal to a container's main terminal (IPC `show_container`, then its terminal socket).",
        parameters: [.optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in).")],
        details: "Ctrl-P then `q` detaches and leaves the container running. Only containers run with `-t` have a terminal. Its window size follows this terminal's while attached (Linux xcd: `xcsh.resize`).")
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      let m = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
        try s.call(ShowContainerRequest(id: ref), at: call.head).runningContainer
      }
      guard let path = m.processes["main"]?.spawnInfo?.terminalSocket else {
        throw ShellError(
          .terminalMissing, "cannot attach to container `\(m.name)`: its main process is not on a terminal",
          at: call.head, help: "run it with `run -d -t …` to attach later")
      }
      // The terminal socket is next to the daemon the container object came from.
      _ = try DaemonRoute.withHost(of: target) {
        try TerminalRelay.attach(path: path, s, call, size: TerminalSize.forProcess(s, container: m.id, at: call.head))
      }
      return .empty
    }
  }

  static func link(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "link", category: .objects,
        summary: "Tie a container's life to this shell: it is stopped when the shell exits (IPC `link`).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .switch("wait", short: "w", "Block until the container ends, as `xc link` does (Ctrl-C stops it)."),
        ],
        details: """
          xcsh sends a pidfd of a sleeper child it spawns; the daemon kills that child when the \\
          container ends, and stops the container when this shell's connection closes (on a \\
          remote host: the relay's child there, and the session's end; docs/remote.md). Returns \\
          the container object (at once, or when it has ended with `--wait`).
          """)
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      let sleeper = try Sleeper.spawn(call)
      defer { sleeper.reap() }
      let id = try ObjectArgs.withContainer(s, target, at: call.head) { ref -> String in
        _ = try s.call(LinkRequest(name: ref, fd: FDRef(FileDescriptor(rawValue: sleeper.pidfd))), at: call.head)
        return try s.call(ShowContainerRequest(id: ref), at: call.head).runningContainer.id
      }
      if call.has("wait") {
        do {
          while try !TerminalRelay.waitReadable(sleeper.pidfd, call) {}
        } catch {
          _ = try? DaemonRoute.withHost(of: target) { try s.call(KillContainerRequest(name: id), at: call.head) }
          throw error
        }
      } else {
        sleeper.detach()
      }
      return .value(try DaemonRoute.withHost(of: target) { try ObjectArgs.show(s, .string(id), at: call.head) })
    }
  }

  static func commit(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "commit", category: .objects,
        summary: "Snapshot a container into a new image `NAME:TAG` (IPC `commit`).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .optional("reference", .string, "The new image as `NAME:TAG` (or use `--name` and `--tag`)."),
          .named("name", .string, "The new image's name."),
          .named("tag", .string, "The new image's tag."),
        ],
        examples: [Example("Commit a prepared container", "commit $c app:1")],
        details: "Returns the new image object (`describe_image`), with `commit_id`, the new layer's diff id.")
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      var name = try call.string("name")
      var tag = try call.string("tag")
      if let ref = try call.string("reference") {
        do {
          let split = try FlagSyntax.nameAndTag(ref, flag: "commit")
          (name, tag) = (split.name, split.tag)
        } catch { throw ObjectArgs.syntax(error, call) }
      }
      guard let name, let tag else {
        throw ShellError(.argsMissing, "`commit` needs the new image as `NAME:TAG` (or `--name` and `--tag`)", at: call.span)
      }
      let committed = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
        try s.call(CommitRequest(containerName: ref, name: name, tag: tag), at: call.head)
      }
      // The new image is on the container's host.
      var image = try DaemonRoute.withHost(of: target) { try ImageCommands.describe(s, "\(name):\(tag)", at: call.head) }
      if case .object(var o) = image.kind {
        o.fields["commit_id"] = .string(committed.commitId)
        image = Value(.object(o), image.span)
      }
      return .value(image)
    }
  }
}

/// A child that waits until killed: its pidfd is what `link` hands the daemon. It is `cat`
/// reading a pipe whose write end only this shell holds, so it also ends when the shell does,
/// and its output goes to /dev/null (it must not hold a caller's pipe open).
final class Sleeper {
  let pid: pid_t
  let pidfd: CInt
  private let keepAlive: CInt
  private var detached = false

  private init(pid: pid_t, pidfd: CInt, keepAlive: CInt) {
    self.pid = pid
    self.pidfd = pidfd
    self.keepAlive = keepAlive
  }

  static func spawn(_ call: Call) throws -> Sleeper {
    var p: [CInt] = [-1, -1]
    guard pipe(&p) == 0, fcntl(p[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(p[1], F_SETFD, FD_CLOEXEC) == 0 else {
      throw ShellError(.systemPipe, "cannot create a pipe for the link", at: call.head)
    }
    // Its own process group: a Ctrl-C at the terminal must not end the link early.
    let spawned = HostProcess.spawn("cat", [], stdin: .fd(p[0]), stdout: .devNull, stderr: .devNull, ownProcessGroup: true)
    close(p[0])
    let pid: pid_t
    switch spawned {
    case .success(let child): pid = child
    case .failure(let e):
      close(p[1])
      throw ShellError(.systemSpawn, "cannot start the link's waiting child (`cat`): \(e)", at: call.head)
    }
    let fd = cs_pidfd_open(pid)
    guard fd >= 0 else {
      close(p[1])
      kill(pid, SIGKILL)
      var st: Int32 = 0
      waitpid(pid, &st, 0)
      throw ShellError(.systemPidfd, "cannot open a pidfd: \(String(cString: strerror(errno)))", at: call.head)
    }
    return Sleeper(pid: pid, pidfd: fd, keepAlive: p[1])
  }

  /// Leaves the child to the daemon (killed when the container ends) or to this shell's exit;
  /// a thread reaps it.
  func detach() {
    detached = true
    let pid = self.pid
    let fd = pidfd
    let keep = keepAlive
    let t = Thread {
      var st: Int32 = 0
      waitpid(pid, &st, 0)
      close(fd)
      close(keep)
    }
    t.start()
  }

  /// Ends and reaps the child unless detached.
  func reap() {
    guard !detached else { return }
    close(keepAlive)
    kill(pid, SIGKILL)
    var st: Int32 = 0
    waitpid(pid, &st, 0)
    close(pidfd)
  }
}
