import Glibc
import XCIPC
import XCShell

/// One `stack up`: each resource made to match the plan in order, and what this run created
/// removed again (in reverse) when a later step fails.
struct Converge {
  let s: DaemonSession
  let call: Call
  let networks: [NetworkInfo]
  private(set) var plan: StackPlan

  init(s: DaemonSession, call: Call, plan: StackPlan, networks: [NetworkInfo]) {
    self.s = s
    self.call = call
    self.plan = plan
    self.networks = networks
  }

  mutating func run() throws -> [Value] {
    var done: [Value] = []
    var undo: [() -> Void] = []
    // On a remote host a bind's path is that host's: one relative to the project directory
    // (on this machine) names nothing there. Refused before anything is made.
    if let remote = try s.remoteHost(at: call.head) {
      for svc in plan.services {
        guard let relative = svc.relativeBinds.first else { continue }
        throw ShellError(
          .stackInvalid,
          "\(relative.at): the bind `\(relative.value)` is relative to the project directory on this machine, but the stack runs on host \(remote): give an absolute path of that host",
          at: call.head)
      }
    }
    // xc's daemon would ignore a restart policy or a health check: refused before anything.
    let lifecycle = plan.services.filter { $0.restart != nil || $0.health != nil }
    if let first = lifecycle.first {
      try ResourceCommands.requireSupport("`restart:`/`healthcheck:` (service `\(first.name)`)", s, call)
    }
    // Images first: a failing build leaves nothing else made. Built images are kept (as
    // Compose keeps them), also when a later step fails.
    let built = try StackBuild(s: s, call: call).run(plan)
    plan = built.plan
    done = built.steps
    do {
      for n in plan.networks { done.append(try network(n, &undo)) }
      let volumes = try VolumeCommands.volumes(s, at: call.head)
      for v in plan.volumes { done.append(try volume(v, volumes, &undo)) }
      for svc in plan.services { done.append(try service(svc, &undo)) }
    } catch {
      for u in undo.reversed() { u() }
      throw error
    }
    return done + (try orphans())
  }

  /// The project's live containers the plan does not want. Those of services the file still
  /// has are replicas beyond the service's count: killed and listed as `removed` (scaling
  /// down). Those of services the file no longer has are listed as `orphaned` (as Compose
  /// warns), or with `--remove-orphans` killed and listed as `removed`.
  private func orphans() throws -> [Value] {
    let wanted = Set(plan.services.map(\.container))
    let unwanted = try s.call(ListContainersRequest(), at: call.head).filter {
      $0.mainProto?.envs[StackPlan.projectLabel] == plan.project && !wanted.contains($0.name)
    }
    let scaledDown = unwanted.filter { plan.serviceNames.contains($0.mainProto?.envs[StackPlan.serviceLabel] ?? "") }
    let orphans = unwanted.filter { !plan.serviceNames.contains($0.mainProto?.envs[StackPlan.serviceLabel] ?? "") }
    let removing = (scaledDown + (call.has("remove-orphans") ? orphans : [])).sorted { $0.name < $1.name }
    for c in removing { _ = try s.call(KillContainerRequest(name: c.id), at: call.head) }
    if !removing.isEmpty, !s.modes.dryRun {
      try ObjectCommands.waitTornDown(removing.map(\.id), s, call, timeout: 60_000_000_000)
    }
    var out = try removing.map { ObjectArgs.ensured("removed", try ObjectArgs.container($0)) }
    if !call.has("remove-orphans") { out += try orphans.map { ObjectArgs.ensured("orphaned", try ObjectArgs.container($0)) } }
    return out
  }

  private func created(_ v: Value) -> Bool {
    if case .record(let r) = v.kind, case .string(let a)? = r["action"]?.kind { return a == "created" }
    return false
  }

  private func network(_ n: StackPlan.Network, _ undo: inout [() -> Void]) throws -> Value {
    let existing = networks.first { $0.name == n.name }
    if n.external {
      guard let existing else {
        throw ShellError(.stackMissing, "\(n.at): external network `\(n.name)` is not on the daemon", at: call.head, help: "create it first (`network create`)")
      }
      return ObjectArgs.ensured("unchanged", try DaemonSession.value(existing, as: .network))
    }
    let r = CreateNetworkRequest(name: n.name, subnet: n.subnet)
    let v = try ObjectArgs.ensure(
      existing: existing, matches: { NetworkCommands.matches($0, r) }, object: { try DaemonSession.value($0, as: .network) },
      remove: { _ = try s.call(RemoveNetworkRequest(name: n.name), at: call.head) },
      create: {
        _ = try s.call(r, at: call.head)
        return try NetworkCommands.find(s, n.name, at: call.head) ?? .record(Record([("name", .string(n.name))]))
      })
    if created(v) { undo.append { [s, call] in _ = try? s.call(RemoveNetworkRequest(name: n.name), at: call.head) } }
    return v
  }

  private func volume(_ v: StackPlan.Volume, _ all: [String: Volume], _ undo: inout [() -> Void]) throws -> Value {
    if v.external {
      guard let existing = all[v.name] else {
        throw ShellError(.stackMissing, "\(v.at): external volume `\(v.name)` is not on the daemon", at: call.head, help: "create it first (`volume create`)")
      }
      return ObjectArgs.ensured("unchanged", try VolumeCommands.object(v.name, existing))
    }
    let r = CreateVolumeRequest(name: v.name, kind: .directory)
    let result = try ObjectArgs.ensure(
      existing: all[v.name], matches: { $0.driver == .directory }, object: { try VolumeCommands.object(v.name, $0) },
      remove: { _ = try s.call(RemoveVolumeRequest(name: v.name), at: call.head) },
      create: {
        _ = try s.call(r, at: call.head)
        return try VolumeCommands.volumes(s, at: call.head)[v.name].map { try VolumeCommands.object(v.name, $0) }
          ?? .record(Record([("name", .string(v.name))]))
      })
    if created(result) { undo.append { [s, call] in _ = try? s.call(RemoveVolumeRequest(name: v.name), at: call.head) } }
    return result
  }

  private func service(_ svc: StackPlan.Service, _ undo: inout [() -> Void]) throws -> Value {
    let opened = CreateFlags.Opened()
    defer { opened.close() }
    let r = try request(svc, opened)
    // The settings label decides: xc expands `$NAME` in main's arguments, so they are not
    // compared as sent.
    let same = { (m: ContainerManifest, r: InstantiateRequest) in
      m.imageReference == r.imageReference && m.mainProto?.envs[StackPlan.hashLabel] == r.envs[StackPlan.hashLabel]
    }
    guard case .value(let v) = try Replace.run(r, call, s, same: same) else { return .null }
    if created(v) {
      undo.append { [s, call] in
        _ = try? s.call(KillContainerRequest(name: svc.container), at: call.head)
        if !s.modes.dryRun { try? ObjectCommands.waitTornDown([svc.container], s, call, timeout: 30_000_000_000) }
      }
    }
    return v
  }

  /// The `instantiate` request for a service, as `run` would make it from the same flags.
  func request(_ svc: StackPlan.Service, _ opened: CreateFlags.Opened) throws -> InstantiateRequest {
    func fail(_ at: ComposePosition, _ why: String) -> ShellError {
      ShellError(.stackInvalid, "\(at): \(why)", at: call.head)
    }
    var r = InstantiateRequest(imageReference: svc.image, name: svc.container, tapInterfaces: [], tunInterfaces: [])
    r.hostname = svc.hostname
    r.envs = svc.environment
    r.user = svc.user
    r.vnet = true
    r.ips.append(IpAssign(network: nil, addresses: ["127.0.0.1/8", "::1/128"], interface: "lo0"))
    for n in svc.networks {
      do { r.ipreq.append(try FlagSyntax.network(n)) } catch { throw fail(svc.at, "\(error)") }
    }
    // Each network is also a group, so every member's /etc/hosts names the others.
    r.netgroups = svc.networks
    for p in svc.ports {
      do { r.portRedirections.append(try FlagSyntax.publish(p.value, flag: "ports")) } catch { throw fail(p.at, "\(error)") }
    }
    let remote = try s.remoteHost(at: call.head)
    for item in svc.binds {
      let b: FlagSyntax.Bind
      do { b = try FlagSyntax.bind(item.value, flag: "volumes") } catch { throw fail(item.at, "\(error)") }
      if b.isHostPath {
        r.mountReq.append(
          try opened.hostMount(b.source, at: b.destination, readOnly: b.readOnly, remote: remote, flag: "volumes", call) {
            fail(item.at, $0)
          })
      } else {
        r.mountReq.append(MountRequest(source: OsString(b.source), dest: OsString(b.destination), readOnly: b.readOnly))
      }
    }
    if !svc.dns.isEmpty { r.dns = .specified(servers: svc.dns, searchDomains: []) }
    r.entryPoint = EntryPoint(entryPoint: svc.argv.first, entryPointArgs: Array(svc.argv.dropFirst()))
    r.xcshRestart = svc.restart
    r.xcshHealth = svc.health
    return r
  }
}
