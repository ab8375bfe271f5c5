import Dispatch
import Foundation
import XCIPC
import XCRemote
import XCShell

/// `host list|add|rm|check`: the host inventory (`hosts.yaml`, docs/remote.md "Inventory") as
/// records, and a reachability check of hosts through ssh, the relay and the daemon. With
/// `--dry-run`, `host add` and `host rm` check everything but write a plan line instead of the
/// file; `host check` only reads, so it runs.
enum HostCommands {
  static func all(_ s: DaemonSession, environment: [String: String] = ProcessInfo.processInfo.environment) -> [any Command] {
    let dryRun = s.modes.dryRun
    return [
      list(environment), add(environment, dryRun: dryRun), remove(environment, dryRun: dryRun), check(environment),
      disconnect(environment, dryRun: dryRun),
    ]
  }

  /// Writes the inventory, or in a dry run says what would have been written.
  static func save(_ inv: HostInventory, dryRun: Bool, plan: String) throws(InventoryError) {
    if dryRun {
      StandardError.write("+ \(plan) (\(inv.path) not written: --dry-run)\n")
    } else {
      try inv.save()
    }
  }

  static func inventory(_ env: [String: String], at span: Span) throws -> HostInventory {
    do throws(InventoryError) {
      return try HostInventory.load(path: HostInventory.defaultPath(environment: env))
    } catch {
      throw ShellError(.hostInventory, "\(error)", at: span)
    }
  }

  /// Runs `body` and turns an inventory error into a shell error at `span`.
  static func located<T>(_ span: Span, _ body: () throws(InventoryError) -> T) throws -> T {
    do throws(InventoryError) {
      return try body()
    } catch {
      throw ShellError(.hostInventory, "\(error)", at: span)
    }
  }

  static func record(_ h: InventoryHost, _ inv: HostInventory) -> Value {
    Value(
      .record(
        Record([
          ("name", Value(.string(h.name))),
          ("address", Value(.string(h.address))),
          ("labels", Value(.record(Record(h.labels.keys.sorted().map { ($0, Value(.string(h.labels[$0]!))) })))),
          ("groups", Value(.list(inv.groups(of: h.name).map { Value(.string($0)) }))),
          // How the relay runs there: `sudo`/`doas` (as root) or null (as the ssh user).
          ("privilege", h.privilege == .none ? .null : Value(.string(h.privilege.rawValue))),
          ("relay", h.relayPath.map { Value(.string($0)) } ?? .null),
        ])))
  }

  static func list(_ env: [String: String]) -> Builtin {
    Builtin(
      Signature(
        "host list", category: .objects,
        summary: "The hosts of the inventory (`hosts.yaml`), or of one group: `{name, address, labels, groups, privilege, relay}`.",
        parameters: [.optional("group", .string, "Only this group's hosts, in the group's order (or this one host).")],
        examples: [
          Example("The web hosts", "host list | where ('web' in $it.groups) | get name"),
          Example("A group's hosts, in its order (then e.g. `par-each {|h| on $h { … } }`)", "host list web | get name"),
        ],
        details: "The inventory is `$XCSH_HOSTS`, else `$XDG_CONFIG_HOME/xcsh/hosts.yaml`, else `~/.config/xcsh/hosts.yaml`; a missing file is an empty inventory. A group or host that is not in it is `host.inventory`. See docs/remote.md.")
    ) { call, _ in
      let inv = try inventory(env, at: call.head)
      guard let group = try call.string("group") else {
        return .value(Value(.list(inv.hosts.map { record($0, inv) }), call.head))
      }
      let names = try located(call.head) { () throws(InventoryError) in try inv.expand(group) }
      let hosts = names.compactMap { n in inv.hosts.first { $0.name == n } }
      return .value(Value(.list(hosts.map { record($0, inv) }), call.head))
    }
  }

  static func add(_ env: [String: String], dryRun: Bool) -> Builtin {
    Builtin(
      Signature(
        "host add", category: .objects,
        summary: "Add a named host to the inventory; returns its record.",
        parameters: [
          .required("name", .string, "The host's name (letters, digits and `._-`)."),
          .required("address", .string, "ssh://[user@]host[:port][/socket/path]."),
          .named("label", .any, short: "l", "A label `KEY=VALUE`; repeatable."),
          .named("option", .any, short: "o", "An ssh option `Key=Value` for this host; repeatable."),
          .switch("sudo", "Run the relay there as root through `sudo -n` (`sudo: true`)."),
          .switch("doas", "Run the relay there as root through `doas -n` (`doas: true`)."),
          .named("relay", .string, "A pre-built relay at this absolute path there (`relay: PATH`), used instead of compiling one."),
        ],
        examples: [
          Example("A web host", "host add web3 ssh://root@web3.example --label role=web"),
          Example("A host whose daemon only root may reach", "host add db2 ssh://ops@db2.example --sudo --relay /usr/local/libexec/xcsh-relay"),
        ],
        details: "The file is rewritten atomically (the previous one kept as `hosts.yaml.bak`); comments in it are not kept. With --dry-run nothing is written. --sudo and --doas exclude each other; see docs/remote.md for what they let the relay do.")
    ) { call, _ in
      var inv = try inventory(env, at: call.head)
      var h = InventoryHost(name: try call.require("name").asString(), address: try call.require("address").asString())
      for l in try ObjectArgs.strings(call, "label") {
        guard let eq = l.firstIndex(of: "=") else {
          throw ShellError(.argsValue, "`--label \(l)`: a label is written KEY=VALUE", at: call.span)
        }
        h.labels[String(l[..<eq])] = String(l[l.index(after: eq)...])
      }
      h.options = try ObjectArgs.strings(call, "option")
      if call.has("sudo"), call.has("doas") {
        throw ShellError(.argsConflict, "`host add` takes `--sudo` or `--doas`, not both", at: call.span)
      }
      h.privilege = call.has("sudo") ? .sudo : call.has("doas") ? .doas : .none
      h.relayPath = try call.string("relay")
      try located(call.span) { () throws(InventoryError) in
        try inv.add(h)
        try save(inv, dryRun: dryRun, plan: "host add \(h.name) \(h.address)")
      }
      var v = record(h, inv)
      v.span = call.head
      return .value(v)
    }
  }

  static func remove(_ env: [String: String], dryRun: Bool) -> Builtin {
    Builtin(
      Signature(
        "host rm", category: .objects,
        summary: "Remove hosts from the inventory (and from its groups); returns their records.",
        parameters: [.rest("names", .string, "Host names.")],
        examples: [Example("Forget web1", "host rm web1")],
        details: "The file is rewritten atomically (the previous one kept as `hosts.yaml.bak`); comments in it are not kept. Nothing is written when a name is unknown, or with --dry-run.")
    ) { call, _ in
      var inv = try inventory(env, at: call.head)
      let names = try call.restValues().map { try $0.asString() }
      guard !names.isEmpty else { throw ShellError(.argsMissing, "`host rm` needs at least one host name", at: call.head) }
      var removed: [Value] = []
      try located(call.span) { () throws(InventoryError) in
        for n in names {
          if let h = inv.host(named: n) { removed.append(record(h, inv)) }
          try inv.remove(n)
        }
        try save(inv, dryRun: dryRun, plan: "host rm \(names.joined(separator: " "))")
      }
      return .value(Value(.list(removed), call.head))
    }
  }

  static func check(_ env: [String: String]) -> Builtin {
    Builtin(
      Signature(
        "host check", category: .objects,
        summary: "Reach hosts through ssh, the relay and the daemon: `{host, ok, relay, engine, rtt, error}` per host.",
        parameters: [.rest("hosts", .string, "Host or group names of the inventory, or ssh:// addresses (default: every host).")],
        examples: [Example("The hosts that do not answer", "host check | where not $it.ok")],
        details: "Hosts are checked in parallel, each on a session of its own that is closed afterwards. `relay` is the relay's version, `engine` the daemon's `info` engine (null for xc's own daemon), `rtt` a ping through ssh and the relay in milliseconds. A host that cannot be reached is reported in `error` (naming the stage: ssh, relay build, daemon), never thrown.")
    ) { call, _ in
      let targets = try hosts(call, env)
      let options = SSHOptions.fromEnvironment(env)
      return .value(Value(.list(inParallel(targets) { checkOne($0.name, $0.host, options: options) }), call.head))
    }
  }

  static func disconnect(_ env: [String: String], dryRun: Bool) -> Builtin {
    Builtin(
      Signature(
        "host disconnect", category: .objects,
        summary: "End what this machine keeps open to hosts between xcsh processes (the relay listener there, the ssh control master): `{host, listener, master}` per host.",
        parameters: [.rest("hosts", .string, "Host or group names of the inventory, or ssh:// addresses (default: every host).")],
        examples: [Example("Before taking web1 down", "host disconnect web1")],
        details: "`listener` and `master` say whether one was running and was ended. The listener is reached through this machine's control master (a listener another machine started ends on its own when idle). Sessions open in running xcsh processes keep going until they end; the next call connects from scratch. Nothing is started: a host with neither gives false, false. With --dry-run nothing is ended (both null).")
    ) { call, _ in
      let targets = try hosts(call, env)
      if dryRun {
        return .value(
          Value(
            .list(
              targets.map { t in
                StandardError.write("+ host disconnect \(t.name) (not ended: --dry-run)\n")
                return disconnected(t.name, listener: .null, master: .null)
              }), call.head))
      }
      let options = SSHOptions.fromEnvironment(env)
      return .value(
        Value(
          .list(
            inParallel(targets) { t in
              let d = SSHTransport.disconnect(t.host, options: options)
              return disconnected(t.name, listener: Value(.bool(d.listener)), master: Value(.bool(d.master)))
            }), call.head))
    }
  }

  static func disconnected(_ name: String, listener: Value, master: Value) -> Value {
    Value(.record(Record([("host", Value(.string(name))), ("listener", listener), ("master", master)])))
  }

  /// The hosts a `host check`/`host disconnect` call names (inventory hosts or groups, or
  /// ssh:// addresses; every inventory host when none), each once, in the order given.
  static func hosts(_ call: Call, _ env: [String: String]) throws -> [(name: String, host: RemoteHost)] {
    let inv = try inventory(env, at: call.head)
    let given = try call.restValues().map { try $0.asString() }
    var named: [(name: String, host: RemoteHost)] = []
    try located(call.span) { () throws(InventoryError) in
      for g in given.isEmpty ? inv.hosts.map(\.name) : given {
        let names = g.hasPrefix("ssh://") ? [g] : try inv.expand(g)
        for n in names where !named.contains(where: { $0.name == n }) { named.append((n, try inv.resolve(n))) }
      }
    }
    return named
  }

  /// `body` for each target, at most `parallel` at once, the results in the targets' order.
  /// A thread per host: each mostly waits on ssh (up to its ConnectTimeout for a host that
  /// does not answer), so cores are not the limit.
  static func inParallel(
    _ targets: [(name: String, host: RemoteHost)], _ body: @escaping @Sendable ((name: String, host: RemoteHost)) -> Value
  ) -> [Value] {
    let results = Results(count: targets.count)
    let slots = DispatchSemaphore(value: parallel)
    let done = DispatchGroup()
    for (i, t) in targets.enumerated() {
      slots.wait()
      done.enter()
      let worker = Thread {
        results.set(i, body(t))
        slots.signal()
        done.leave()
      }
      worker.stackSize = 1 << 20
      worker.start()
    }
    done.wait()
    return results.values
  }

  /// How many hosts `host check` and `host disconnect` contact at once.
  static let parallel = 16

  /// The results of parallel checks, by index.
  final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value]
    init(count: Int) { slots = Array(repeating: Value(.null), count: count) }
    func set(_ i: Int, _ v: Value) {
      lock.lock()
      slots[i] = v
      lock.unlock()
    }
    var values: [Value] {
      lock.lock()
      defer { lock.unlock() }
      return slots
    }
  }

  /// One host's check: connect (ssh, relay, handshake with the daemon's socket), ping, `info`.
  static func checkOne(_ name: String, _ host: RemoteHost, options: SSHOptions) -> Value {
    var relay = Value(.null)
    var engine = Value(.null)
    var rtt = Value(.null)
    var error = Value(.null)
    do throws(IPCError) {
      let c = try SSHTransport.connect(host, options: options, announce: StandardError.write)
      defer { c.close() }
      relay = c.session.relayInfo["relay"].map { Value(.string($0)) } ?? Value(.null)
      let t = try c.session.ping()
      let ms = Double(t.components.seconds) * 1000 + Double(t.components.attoseconds) / 1e15
      rtt = Value(.float((ms * 100).rounded() / 100))
      let info = try c.session.call(InfoRequest(), timeout: .seconds(30))
      if let e = info.engine { engine = (try? DaemonSession.value(e, as: nil)) ?? Value(.null) }
    } catch let e {
      error = Value(.string("\(e)"))
    }
    return Value(
      .record(
        Record([
          ("host", Value(.string(name))), ("ok", Value(.bool(error.isNull))), ("relay", relay), ("engine", engine),
          ("rtt", rtt), ("error", error),
        ])))
  }
}
