import Foundation
import XCIPC
import XCShell

/// `stack up|down|ps`: a Compose file (docs/stacks.md) carried out with the object operations
/// (`network ensure`, `volume ensure`, `run --replace`); each returns records scripts can use.
enum StackCommands {
  static func all(_ s: DaemonSession) -> [any Command] { [up(s), down(s), ps(s)] }

  static let projectFlag: Parameter = .named("project", .string, short: "p", "The project name (default: the file's `name:`, else its directory's name).")

  static func up(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "stack up", category: .objects,
        summary: "Bring a Compose file's networks, volumes and services up; returns `{action, object}` per resource.",
        parameters: [
          .required("stack", .any, "The Compose file, or a record of the same keys (docs/stacks.md: the supported keys)."), projectFlag,
          .switch("remove-orphans", "Kill the project's containers of services the file no longer has (else listed as `orphaned`)."),
          .switch("build", "Rebuild the images of services with `build:` even when they exist (else an existing image is used)."),
        ],
        examples: [
          Example("Bring a stack up", "stack up examples/stack/compose.yaml"),
          Example("What changed", "stack up examples/stack/compose.yaml | where action != unchanged"),
          Example("A stack as a record", "stack up {name: \"demo\", services: {web: {image: \"busybox:latest\", command: [\"httpd\", \"-f\"]}}}"),
        ],
        details: """
          Images of services with `build:` are built first when missing (`--build`: always). \
          Networks and volumes are created when missing; each service's containers \
          (`<project>-<service>-1` … `-N` for N replicas) are kept when their settings are \
          unchanged, else replaced, in `depends_on` order; replicas beyond the count are removed. A second `up` of the same file changes nothing. When a step fails, \
          what this `up` created is removed again before the error is reported. Containers of \
          services the file no longer has are listed as `orphaned` (killed with \
          `--remove-orphans`). Unsupported keys \
          are refused at FILE:LINE:COL before anything is done.
          """)
    ) { call, _ in
      let file = try StackFile.load(
        try call.require("stack"), project: try call.string("project"), environment: call.evaluator.environment, at: call.head)
      let networks = try NetworkCommands.networks(s, at: call.head)
      var subnets: [String: String] = [:]
      for n in networks { if let sub = n.subnet { subnets[n.name] = sub } }
      let plan = try file.plan(existingSubnets: subnets, at: call.head)
      var converge = Converge(s: s, call: call, plan: plan, networks: networks)
      return .value(.list(try converge.run(), call.head))
    }
  }

  static func down(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "stack down", category: .objects,
        summary: "Remove a stack's containers and networks (and with `--volumes` its volumes); returns `{action, object}` per resource.",
        parameters: [
          .required("stack", .any, "A project name, the Compose file (a path: it has a `/` or a `.`), or the stack's record."),
          projectFlag,
          .switch("volumes", short: "v", "Also remove the stack's volumes (kept by default, as Compose does)."),
        ],
        examples: [
          Example("Take a stack down", "stack down examples/stack/compose.yaml"),
          Example("By project name, volumes too", "stack down xcshdemo --volumes"),
        ],
        details: """
          The containers are those labelled `XCSH_STACK=<project>` (live ones are killed, ended \
          ones forgotten); with a file, the networks and volumes are those it declares, with a \
          project name those named `<project>` or `<project>-…`. External ones are never removed. \
          Taking down a stack that is not up does nothing.
          """)
    ) { call, _ in
      let target = try Target(call, s)
      var done: [Value] = []
      func removed(_ v: Value) { done.append(ObjectArgs.ensured("removed", v)) }
      let live = try s.call(ListContainersRequest(), at: call.head).filter { target.owns($0) }
      for c in live {
        _ = try s.call(KillContainerRequest(name: c.id), at: call.head)
        removed(try ObjectArgs.container(c))
      }
      if !live.isEmpty, !s.modes.dryRun {
        try ObjectCommands.waitTornDown(live.map(\.id), s, call, timeout: 60_000_000_000)
      }
      // Ended containers keep their records; forget them too (a daemon without the extension
      // keeps none). Those just killed are among them, and already listed above.
      let killed = Set(live.map(\.id))
      for c in try s.callExtension(ListEndedContainersRequest(), at: call.head) ?? [] where target.owns(c) {
        _ = try s.callExtension(RemoveContainerRequest(name: c.id), feature: "`stack down`", at: call.head)
        if !killed.contains(c.id) { removed(try ObjectArgs.container(c)) }
      }
      for n in try NetworkCommands.networks(s, at: call.head) where target.ownsNetwork(n.name) {
        _ = try s.call(RemoveNetworkRequest(name: n.name), at: call.head)
        removed(try DaemonSession.value(n, as: .network))
      }
      if call.has("volumes") {
        let all = try VolumeCommands.volumes(s, at: call.head)
        for name in all.keys.sorted() where target.ownsVolume(name) {
          _ = try s.call(RemoveVolumeRequest(name: name), at: call.head)
          removed(try VolumeCommands.object(name, all[name]!))
        }
      }
      return .value(.list(done, call.head))
    }
  }

  static func ps(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "stack ps", category: .objects,
        summary: "A stack's containers, as container objects.",
        parameters: [
          .required("stack", .any, "A project name, the Compose file, or the stack's record."), projectFlag,
          .switch("all", short: "a", "Also the ended ones the daemon keeps (IPC extension `xcsh.list_ended`)."),
        ],
        examples: [Example("The services' addresses", "stack ps xcshdemo | select name status ip")])
    ) { call, _ in
      let target = try Target(call, s)
      var list = try s.call(ListContainersRequest(), at: call.head).filter { target.owns($0) }
      if call.has("all") {
        list += try s.callExtension(ListEndedContainersRequest(), feature: "`stack ps --all`", at: call.head).filter { target.owns($0) }
      }
      return .value(.list(try list.sorted { $0.name < $1.name }.map { try ObjectArgs.container($0) }, call.head))
    }
  }

  /// What `stack down`/`ps` act on: a project, and with a file the exact networks and volumes.
  struct Target {
    var project: String
    var networks: Set<String>?
    var volumes: Set<String>?

    init(_ call: Call, _ s: DaemonSession) throws {
      let value = try call.require("stack")
      let arg: String
      if value.recordValue != nil {
        arg = ""
      } else if case .string(let text) = value.kind {
        arg = text
      } else {
        throw ShellError(.stackInvalid, "a stack is a project name, a Compose file's path or a record, not \(value.typeNameWithArticle)", at: call.head)
      }
      if value.recordValue != nil || StackFile.isPath(arg) {
        let file = try StackFile.load(
          value, project: try call.string("project"), environment: call.evaluator.environment, at: call.head)
        project = file.project
        let plan = try file.plan(existingSubnets: [:], at: call.head)
        networks = Set(plan.networks.filter { !$0.external }.map(\.name))
        volumes = Set(plan.volumes.filter { !$0.external }.map(\.name))
      } else {
        project = try call.string("project") ?? arg
        guard StackPlan.isProjectName(project) else {
          throw ShellError(.stackInvalid, "`\(project)` is neither a project name (lowercase letters, digits, `_`) nor a file", at: call.head)
        }
      }
    }

    func owns(_ c: ContainerManifest) -> Bool { c.mainProto?.envs[StackPlan.projectLabel] == project }
    func ownsNetwork(_ name: String) -> Bool { networks?.contains(name) ?? StackPlan.owns(project, name) }
    func ownsVolume(_ name: String) -> Bool { volumes?.contains(name) ?? StackPlan.owns(project, name) }
  }
}
