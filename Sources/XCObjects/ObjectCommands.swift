import Foundation
import XCIPC
import XCShell

/// Commands over the daemon that take and return typed objects (containers, images).
///
/// This is the first slice of xc's CLI in xcsh: reading the daemon's state and stopping
/// containers. Each command names the IPC method it calls in its summary.
public enum ObjectCommands {
  /// `environment` is the process's (read once by the caller; each read builds it anew).
  public static func all(
    _ session: DaemonSession, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> [any Command] {
    ObjectNouns.register()
    let commands: [any Command] = [
      info(session), ps(session), images(session, name: "images"), images(session, name: "image list"),
      kill(session), RunCommand.make(session), ContainerCommands.exec(session), ContainerCommands.show(session),
      BuildCommand.make(session),
      LogsCommand.make(session),
    ] + lifecycle(session, environment: environment) + FleetCommands.all(session, environment: environment)
    // Each runs on the host of its `on`/`fleet` block (docs/remote.md "On other hosts").
    return commands.map { RoutedCommand(inner: $0, session: session) }
  }

  static func info(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature("info", category: .objects, summary: "The daemon's configuration and state (IPC `info`).")
    ) { call, _ in
      .value(try DaemonSession.value(try s.call(InfoRequest(), at: call.head), as: nil))
    }
  }

  static func ps(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "ps", category: .objects,
        summary: "The containers, as container objects with their published `ports` (IPC `list_containers`, then `list_rdr_rules` once).",
        parameters: [
          .switch("all", short: "a", "Also the ended containers the daemon keeps, with `exit_code` and `finished_at` (IPC extension `xcsh.list_ended`).")
        ],
        examples: [
          Example("Names of running containers", "ps | get name"),
          Example("Containers that failed", "ps --all | where status == exited and exit_code != 0 | select name exit_code finished_at"),
        ])
    ) { call, _ in
      var live = try s.call(ListContainersRequest(), at: call.head).map { ($0, false) }
      if call.has("all") {
        live += try s.callExtension(ListEndedContainersRequest(), feature: "`ps --all`", at: call.head).map { ($0, true) }
      }
      // One `list_rdr_rules` per `ps`, joined to the containers by address (records carry no
      // ports); none when there is no container to join to.
      let rules = live.isEmpty ? [] : try s.call(ListRdrRulesRequest(), at: call.head)
      let list = try live.map { m, ended in
        try ObjectArgs.container(m, ports: ended ? [] : PortCommand.published(PortCommand.rules(rules, of: m)))
      }
      return .value(.list(list, call.head))
    }
  }

  static func images(_ s: DaemonSession, name: String) -> Builtin {
    Builtin(
      Signature(name, category: .objects, summary: "The images, as image objects (IPC `list_all_images`).")
    ) { call, _ in
      let list = try s.call(ListAllImagesRequest(), at: call.head).manifests
      return .value(.list(try list.map { try DaemonSession.value($0, as: .image) }, call.head))
    }
  }

  /// A container's name from a name, an id or a container object.
  static func containerName(_ v: Value, at span: Span) throws -> String {
    switch v.kind {
    case .string(let s): return s
    case .object(let o) where o.type == .container:
      // The name as the user gave it, but the id for the default name `xc-<id>`, which is not
      // an alias in xc.
      let id = o.fields["id"].flatMap { if case .string(let s) = $0.kind { s } else { nil } }
      if case .string(let n)? = o.fields["name"]?.kind, n != "xc-\(id ?? "")" { return n }
      if let id { return id }
      throw ShellError(.objectField, "this container object has no name or id", at: span)
    default:
      throw ShellError.typeMismatch(expected: "container or name", found: v, at: span)
    }
  }

  static func kill(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "kill", category: .objects,
        summary: "Stop containers given as names, ids or objects, or piped in (IPC `kill_container`).",
        parameters: [
          .rest("containers", .object(.container), "Containers to stop: names, ids or objects."),
          .switch("no-wait", "Return once the daemon has the request, as xc's `kill` does."),
          .named("timeout", .duration, "How long to wait for the containers to be torn down.", default: Value(.duration(30_000_000_000))),
        ],
        examples: [Example("Stop everything from an image", "ps | where image_reference =~ busybox | kill")],
        details: """
          The daemon tears a container down after it answers; `kill` waits until every container \
          is gone from `ps` (its addresses, mounts and name released), so the next line can remove \
          its network or reuse its name. A container kept with `--no-clean` is waited for until it \
          has ended.
          """)
    ) { call, input in
      // Killed references by the route they were killed on (nil: the script's own daemon), so
      // each host is waited on.
      var refs: [(host: String?, refs: [String])] = []
      for t in try ObjectArgs.targets(call, input, what: "a container (a name, an id or an object)") {
        do {
          try ObjectArgs.withContainer(s, t, at: call.head) { ref in
            _ = try s.call(KillContainerRequest(name: ref), at: call.head)
            let host = DaemonRoute.current
            if let i = refs.firstIndex(where: { $0.host == host }) { refs[i].refs.append(ref) } else { refs.append((host, [ref])) }
          }
        } catch let e as ShellError where e.code == ObjectArgs.notFoundCode(.container) && ObjectArgs.isObject(t) {
          // A container object was listed, so it existed: gone since (it ended and was torn
          // down between `ps` and here), it is already what `kill` waits for. A name or id typed
          // that answers to nothing stays an error.
          continue
        }
      }
      // A dry run tears nothing down: there is nothing to wait for.
      if !call.has("no-wait"), !s.modes.dryRun {
        let timeout = try call.duration("timeout") ?? 30_000_000_000
        for group in refs {
          try DaemonRoute.with(group.host) { try waitTornDown(group.refs, s, call, timeout: timeout) }
        }
      }
      return .empty
    }
  }

  /// Polls `list_containers` until no container answering to one of `refs` (an id or a name) is
  /// listed any more (or, for `--no-clean` containers, until each has ended): xc's
  /// `kill_container` answers before the teardown.
  static func waitTornDown(_ refs: [String], _ s: DaemonSession, _ call: Call, timeout nanoseconds: Int64) throws {
    var waiting = Set(refs)
    let gone = try Clock.poll(for: nanoseconds, every: 20, call) {
      let listed = try s.call(ListContainersRequest(), at: call.head)
      waiting = waiting.filter { ref in
        guard let c = listed.first(where: { $0.id == ref || $0.name == ref }) else { return false }
        return !(c.noClean && c.finishedAt != nil)
      }
      return waiting.isEmpty
    }
    guard gone else {
      throw ShellError(
        .killTimeout, "still being torn down after kill: \(waiting.sorted().joined(separator: ", "))",
        at: call.head, help: "the daemon's log says why; `kill --no-wait` does not wait")
    }
  }
}

extension Value {
  /// A list's items, nothing for null, or the value itself.
  func listOrSelf() -> [Value] {
    switch kind {
    case .list(let items): items
    case .null: []
    default: [self]
    }
  }
}
