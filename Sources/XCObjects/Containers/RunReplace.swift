import Glibc
import XCIPC
import XCShell

/// `run --replace`: the idempotent form of `run -d` for recipes. A live container of the same
/// name, image, program, arguments, environment, restart policy and health check is kept (`unchanged`); a different one is
/// stopped and a new one made (`replaced`); none makes one (`created`).
enum Replace {
  /// `same` decides whether a live container is what `request` would make (`stack up`
  /// compares its settings label instead).
  static func run(
    _ request: InstantiateRequest, _ call: Call, _ s: DaemonSession,
    same: (ContainerManifest, InstantiateRequest) -> Bool = same
  ) throws -> Pipe {
    guard let name = request.name else {
      throw ShellError(.argsMissing, "`run --replace` needs `--name` (it finds the container to keep or replace by name)", at: call.span)
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
    // A changed restart policy or health check makes another container (as Compose does).
    guard m.xcshRestart == r.xcshRestart, m.xcshHealthCheck == r.xcshHealth else { return false }
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
      throw ShellError(.waitTimeout, "container `\(name)` was still running \(timeoutSeconds)s after kill", at: call.head)
    }
  }
}
