import CSupport
import Glibc
import XCIPC
import XCShell

/// `run --replace`: the idempotent form of `run -d` for recipes. A live container of the same
/// name, image, program, arguments and environment is kept (`unchanged`); a different one is
/// stopped and a new one made (`replaced`); none makes one (`created`).
enum Replace {
  static func run(_ request: InstantiateRequest, _ call: Call, _ s: DaemonSession) throws -> Pipe {
    guard let name = request.name else {
      throw ShellError("args.missing", "`run --replace` needs `--name` (it finds the container to keep or replace by name)", at: call.span)
    }
    var action = "created"
    if let live = try liveContainer(name, s, call) {
      if same(live, request) {
        return .value(ObjectArgs.ensured("unchanged", try ObjectArgs.container(live)))
      }
      _ = try s.call(KillContainerRequest(name: name), at: call.head)
      if !s.modes.dryRun { try waitGone(name, s, call, timeoutSeconds: 60) }
      action = "replaced"
    }
    let id = try s.call(request, at: call.head).id
    return .value(ObjectArgs.ensured(action, try ObjectArgs.show(s, .string(id), at: call.head)))
  }

  /// The live container called `name`, or nil.
  static func liveContainer(_ name: String, _ s: DaemonSession, _ call: Call) throws -> ContainerManifest? {
    do {
      let r = try s.call(ShowContainerRequest(id: name), at: call.head)
      if r.containerDead || r.runningContainer.finishedAt != nil { return nil }
      return r.runningContainer
    } catch let e as ShellError where ObjectArgs.isNotFound(e) {
      return nil
    }
  }

  /// Whether the running container is what `r` would make.
  static func same(_ m: ContainerManifest, _ r: InstantiateRequest) -> Bool {
    guard m.imageReference == r.imageReference else { return false }
    if let ep = r.entryPoint?.entryPoint {
      guard let main = m.mainProto, main.arg0 == ep || main.arg0.hasSuffix("/" + ep),
        main.args == (r.entryPoint?.entryPointArgs ?? [])
      else { return false }
    }
    let envs = m.mainProto?.envs ?? [:]
    return r.envs.allSatisfy { envs[$0.key] == $0.value }
  }

  /// Polls until no container answers to `name` any more (kill is asynchronous in xc, and an
  /// ended container holds its name until it is torn down).
  static func waitGone(_ name: String, _ s: DaemonSession, _ call: Call, timeoutSeconds: Int) throws {
    func holdsName() throws -> Bool {
      do {
        return try !s.call(ShowContainerRequest(id: name), at: call.head).containerDead
      } catch let e as ShellError where ObjectArgs.isNotFound(e) {
        return false
      }
    }
    guard try Clock.poll(for: Int64(timeoutSeconds) * 1_000_000_000, every: 50, call, until: { try !holdsName() }) else {
      throw ShellError("wait.timeout", "container `\(name)` was still running \(timeoutSeconds)s after kill", at: call.head)
    }
  }
}

/// Monotonic time and interruptible sleeps for polling loops.
enum Clock {
  /// Nanoseconds on the monotonic clock.
  static var now: Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
  }

  /// Checks `done` every `milliseconds` (sleeping interruptibly in between) until it holds
  /// (true) or `nanoseconds` have passed (false).
  static func poll(for nanoseconds: Int64, every milliseconds: Int64, _ call: Call, until done: () throws -> Bool) throws -> Bool {
    let deadline = now + nanoseconds
    while true {
      if try done() { return true }
      guard now < deadline else { return false }
      try sleep(milliseconds: milliseconds, call)
    }
  }

  /// Sleeps, waking early (with the interrupt error) on Ctrl-C or SIGTERM.
  static func sleep(milliseconds: Int64, _ call: Call) throws {
    let deadline = now + milliseconds * 1_000_000
    while true {
      let left = (deadline - now) / 1_000_000
      if left <= 0 { return }
      var fds: [pollfd] = []
      if cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
      _ = Glibc.poll(&fds, nfds_t(fds.count), Int32(min(left, 1000)))
      try call.evaluator.checkInterrupt()
    }
  }
}
