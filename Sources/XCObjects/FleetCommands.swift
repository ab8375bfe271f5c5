import Foundation
import XCRemote
import XCShell

/// `on HOST { … }` and `fleet HOSTS { |host| … }`: blocks whose object commands go to other
/// hosts' daemons (docs/remote.md "On other hosts"). Both set the evaluator's ambient `host`,
/// which `RoutedCommand` turns into the route of each object command inside.
enum FleetCommands {
  static func all(_ s: DaemonSession, environment: [String: String] = ProcessInfo.processInfo.environment) -> [any Command] {
    [on(s, environment), fleet(s, environment)]
  }

  /// A host's name from a value: a string (an inventory name or an `ssh://` address), a record
  /// of `host list` (`name`) or of `host check`/`fleet` (`host`), or an object that came from
  /// a daemon (its `host`; `local` for this machine's, whose objects have none).
  static func hostName(_ v: Value, at span: Span) throws -> String {
    switch v.kind {
    case .string(let s) where !s.isEmpty: return s
    case .record(let r):
      for key in ["name", "host"] { if case .string(let s)? = r[key]?.kind, !s.isEmpty { return s } }
    case .object:
      // An object names the daemon it came from: without a `host`, this machine's.
      return DaemonRoute.host(of: v) ?? DaemonRoute.local
    default: break
    }
    throw ShellError(
      .hostTarget, "\(v.typeName) does not name a host", at: v.span.isKnown ? v.span : span,
      help: "give an inventory host's name, an ssh://[user@]host[:port][/socket] address, or a record of `host list`")
  }

  static func on(_ s: DaemonSession, _ env: [String: String]) -> Builtin {
    Builtin(
      Signature(
        "on", category: .objects,
        summary: "Run a block with its object commands going to another host's daemon (through ssh and the relay); a group or a list runs it on each host in turn.",
        parameters: [
          .required(
            "host", .any,
            "An inventory host's name, an ssh:// address, `local`, or a `host list` record; or a group, or a list of these."),
          .required("block", .closure, "The block; its value is `on`'s value (for a group or a list, the list of each host's value; the block gets the host's name)."),
        ],
        examples: [
          Example("What a host runs, or why it cannot say", "try { on web1 { ps | get name } } catch e { $e.message }"),
          Example("This machine's containers, from inside another host's block", "on ssh://web1.invalid { on local { ps | length } }"),
        ],
        details: """
          Objects that come back carry the host in their `host` field, and commands given such \
          objects act on that host wherever they run: `on web1 { ps } | kill` stops the \
          containers on web1 (and an object of this machine's daemon, which has no `host`, \
          goes back to it from inside any block). `local` is this machine's daemon: \
          `on web1 { on local { ps } }`. Blocks nest (the innermost host wins); a `defer` inside runs on \
          the block's host when the block ends. One ssh session per host serves the whole \
          script; calls to one host go one at a time. A group (`on web {|h| … }`) or a list \
          (`on [web1 web2] {|h| … }`) runs the block on each host in turn, in order, as a \
          loop would: the first failure stops it there (the hosts after it do not run) and is \
          the error, naming its host; `fleet` runs hosts in parallel batches and returns a \
          row per host instead. See docs/remote.md.
          """)
    ) { call, _ in
      let target = try call.require("host")
      let block = try call.closure("block")!
      if let hosts = try several(target, env: env, at: call.head) {
        // Every host is known before any runs; then one at a time, stopping at a failure.
        try s.checkHosts(hosts, at: call.head)
        var values: [Value] = []
        for n in hosts {
          values.append(try call.evaluator.withAmbient("host", n) { try call.invoke(block, [.string(n, call.head)]) })
        }
        return .value(.list(values, call.head))
      }
      let name = try hostName(target, at: call.head)
      try s.checkHost(name, at: call.head)
      return .value(try call.evaluator.withAmbient("host", name) { try call.invoke(block, []) })
    }
  }

  /// The hosts `on` runs its block on in turn: a list's, or a group's members; nil for one
  /// host (a name of the inventory's hosts, an address, `local`, a record or an object).
  static func several(_ v: Value, env: [String: String], at span: Span) throws -> [String]? {
    if case .list = v.kind { return try targets(v, env: env, at: span) }
    guard case .string(let name) = v.kind, !name.hasPrefix("ssh://"), name != DaemonRoute.local else { return nil }
    // An inventory that cannot be read is reported by the host check, as for one host.
    guard let inventory = try? HostCommands.inventory(env, at: span), inventory.host(named: name) == nil,
      let group = inventory.groups.first(where: { $0.name == name })
    else { return nil }
    return group.members
  }

  static func fleet(_ s: DaemonSession, _ env: [String: String]) -> Builtin {
    Builtin(
      Signature(
        "fleet", category: .objects,
        summary: "Run a block on each of several hosts, a rolling batch at a time: `{host, ok, value, error, duration}` per host.",
        parameters: [
          .required("hosts", .any, "A group or host name of the inventory, an ssh:// address, or a list of them (or `host list` records)."),
          .required("block", .closure, "Gets the host's name; its object commands go to that host."),
          .named("batch", .int, short: "j", "How many hosts at once (the next starts when one ends).", default: .int(4)),
          .named("max-fail", .int, "Start no new host once this many have failed (default 1; with --keep-going, no limit)."),
          .switch("keep-going", "Return the table even when hosts failed, instead of failing with `fleet.failed`."),
        ],
        examples: [
          Example("Which hosts answer", "fleet web --keep-going {|h| info | get version } | select host ok error"),
          Example("Two at a time, stop after two failures", "fleet [web1] --batch 2 --max-fail 2 --keep-going {|h| ps | length }"),
        ],
        details: """
          Each host runs on its own thread with its own copy of the variables, as in \
          `par-each`. A failing host does not stop the others that are running; once \
          --max-fail hosts have failed no new one starts, and those are rows with `ok: false` \
          and `error` saying they were not started. Without --keep-going any failed host makes \
          `fleet` fail (`fleet.failed`, naming each failed host and its error); with it the \
          table is returned and the script decides (`where not ok`). Ctrl-C starts no new \
          host and interrupts the running ones at their next check, running their defers on \
          their hosts. See docs/remote.md.
          """)
    ) { call, _ in
      let names = try targets(try call.require("hosts"), env: env, at: call.head)
      try s.checkHosts(names, at: call.head)
      let block = try call.closure("block")!
      let batch = Int(try call.int("batch") ?? 4)
      guard batch >= 1 else { throw ShellError(.argsValue, "--batch must be at least 1, found \(batch)", at: call.span) }
      let keepGoing = call.has("keep-going")
      var maxFail = try call.int("max-fail").map { Int($0) } ?? (keepGoing ? nil : 1)
      if let m = maxFail, m < 1 { throw ShellError(.argsValue, "--max-fail must be at least 1, found \(m)", at: call.span) }
      if maxFail.map({ $0 >= names.count }) == true { maxFail = nil }
      let outcomes = try RollingRun.run(
        names.map { Value(.string($0)) }, block, width: batch, maxFailures: maxFail,
        ambient: "host", values: names, call: call)
      let rows = zip(names, outcomes).map { row($0, $1, maxFail: maxFail) }
      let failed = zip(names, outcomes).filter { if case .done = $0.1 { false } else { true } }
      if !failed.isEmpty, !keepGoing {
        let list = failed.map { "\($0.0) (\(errorText($0.1, maxFail: maxFail)))" }.joined(separator: "; ")
        throw ShellError(
          .fleetFailed, "\(failed.count) of \(names.count) hosts failed: \(list)", at: call.head,
          help: "`fleet --keep-going` returns the table `{host, ok, value, error, duration}` instead")
      }
      return .value(.list(rows, call.head))
    }
  }

  /// The hosts a `fleet` argument names, in order, each once: groups expand to their members.
  static func targets(_ v: Value, env: [String: String], at span: Span) throws -> [String] {
    var names: [String] = []
    var inventory: HostInventory?
    for item in v.listOrSelf() {
      let n = try hostName(item, at: span)
      var expanded = [n]
      if !n.hasPrefix("ssh://"), n != DaemonRoute.local {
        if inventory == nil { inventory = try HostCommands.inventory(env, at: span) }
        expanded = try HostCommands.located(span) { () throws(InventoryError) in try inventory!.expand(n) }
      }
      for e in expanded where !names.contains(e) { names.append(e) }
    }
    guard !names.isEmpty else {
      throw ShellError(.hostTarget, "no host was given", at: span, help: "give a group, host names, or `host list` records")
    }
    return names
  }

  static func errorText(_ o: RollingOutcome, maxFail: Int?) -> String {
    switch o {
    case .done: return ""
    case .failed(let e as ShellError, _): return e.message
    case .failed(let e, _): return "\(e)"
    case .notStarted:
      return maxFail.map { "not started: \($0) host\($0 == 1 ? "" : "s") had failed (--max-fail \($0))" }
        ?? "not started: interrupted"
    }
  }

  static func row(_ host: String, _ o: RollingOutcome, maxFail: Int?) -> Value {
    var r = Record()
    r["host"] = .string(host)
    switch o {
    case .done(let v, let seconds):
      r["ok"] = .bool(true)
      r["value"] = v
      r["error"] = Value(.null)
      r["duration"] = Value(.duration(Int64(seconds * 1e9)))
    case .failed(_, let seconds):
      r["ok"] = .bool(false)
      r["value"] = Value(.null)
      r["error"] = .string(errorText(o, maxFail: maxFail))
      r["duration"] = Value(.duration(Int64(seconds * 1e9)))
    case .notStarted:
      r["ok"] = .bool(false)
      r["value"] = Value(.null)
      r["error"] = .string(errorText(o, maxFail: maxFail))
      r["duration"] = Value(.null)
    }
    return .record(r)
  }
}

/// An object command run on the route of its block: the ambient `host` of `on`/`fleet` (or the
/// script's own daemon) becomes the thread's `DaemonRoute` while it runs, and while a stream it
/// returns is read, so its calls and the objects it makes belong to that host.
struct RoutedCommand: Command {
  let inner: any Command
  let session: DaemonSession
  var signature: Signature { inner.signature }

  func run(_ call: Call, _ input: XCShell.Pipe) throws -> XCShell.Pipe {
    let route = DaemonRoute.route(ambient: call.evaluator.ambient["host"], own: session.defaultHostName)
    let out = try DaemonRoute.with(route) { try inner.run(call, input) }
    guard case .stream(let s) = out else { return out }
    return .stream(ValueStream(span: s.span) { try DaemonRoute.with(route) { try s.next() } })
  }
}
