import XCIPC
import XCSystem
import XCShell

/// How object commands read their arguments (names, ids, id prefixes, objects, the pipe) and
/// build their results (daemon records as typed objects, plus documented conveniences).
enum ObjectArgs {
  /// The rest arguments, else the piped values (a list is spread, an empty one is no target);
  /// an error naming the command when it has neither arguments nor a pipe.
  static func targets(_ call: Call, _ input: Pipe, what: String) throws -> [Value] {
    let given = call.restValues()
    if !given.isEmpty { return given }
    // A pipe that carries nothing (`ps | where … | kill`) is a no-op, so clean-up scripts can
    // run twice; with neither arguments nor a pipe there is nothing to act on.
    guard !input.isEmpty else {
      throw ShellError(.argsMissing, "`\(call.name)` needs \(what) (as an argument or piped in)", at: call.span)
    }
    return try input.collect().listOrSelf()
  }

  /// One target: the named argument, else the piped value.
  static func target(_ call: Call, _ input: Pipe, _ name: String, what: String) throws -> Value {
    if let v = call.value(name), !v.isNull { return v }
    let piped = try input.collect()
    if case .list(let items) = piped.kind, items.count == 1 { return items[0] }
    guard !piped.isNull else {
      throw ShellError(.argsMissing, "`\(call.name)` needs \(what) (as an argument or piped in)", at: call.span)
    }
    return piped
  }

  /// A flag-syntax error as a shell error located at the call.
  static func syntax(_ e: any Error, _ call: Call) -> any Error {
    guard let e = e as? FlagSyntaxError else { return e }
    return ShellError(.argsValue, e.description, at: call.span)
  }

  /// The strings of a repeatable flag (`-p A -p B`, or a list).
  static func strings(_ call: Call, _ name: String) throws -> [String] {
    try (call.value(name)?.listOrSelf() ?? []).map { try $0.asString() }
  }

  /// `--network` of `run`/`create`: each as written (`NAME`, `NAME|ADDR`), or a network object,
  /// which stands for its name (and routes the call to its host: `routing`).
  static func networks(_ call: Call) throws -> [String] {
    try (call.value("network")?.listOrSelf() ?? []).map { v in
      guard case .object(let o) = v.kind else { return try v.asString() }
      guard o.type == "network", case .string(let name)? = o.fields["name"]?.kind else {
        throw ShellError(.argsValue, "`--network` takes a network or its name, not \(v.typeNameWithArticle)", at: call.span)
      }
      return name
    }
  }

  /// What routes `run`/`create`: the image and the networks given as objects (the container
  /// is made on the daemon they came from; two daemons are `host.mixed`).
  static func routing(_ call: Call) -> [Value] {
    let networks = (call.value("network")?.listOrSelf() ?? []).filter { if case .object = $0.kind { true } else { false } }
    return (call.value("image").map { [$0] } ?? []) + networks
  }

  // MARK: Containers

  /// A container's name or id as given: a string, or an object's `name` (its `id` when the
  /// name is the default `xc-<id>`).
  static func containerRef(_ v: Value, at span: Span) throws -> String {
    try ObjectCommands.containerName(v, at: span)
  }

  /// Runs `body` with the container reference. When the daemon answers "not found" and no live
  /// container answers to the reference, it is a unique prefix of a live container's id (xc
  /// matches exactly: `body` runs again with that id) or a `container.not_found` error.
  /// A not-found answer about something else (a file in the container) stays as it was.
  static func withContainer<T>(
    _ s: DaemonSession, _ v: Value, at span: Span, _ body: (String) throws -> T
  ) throws -> T {
    // An object from another host is acted on there (docs/remote.md "Objects carry their host").
    try DaemonRoute.withHost(of: v) { try withContainerHere(s, v, at: span, body) }
  }

  private static func withContainerHere<T>(
    _ s: DaemonSession, _ v: Value, at span: Span, _ body: (String) throws -> T
  ) throws -> T {
    let ref = try containerRef(v, at: span)
    do {
      return try body(ref)
    } catch let e as ShellError where e.code == .daemonNotFound {
      let live = try s.call(ContainerNamesRequest(), at: span)
      if live.contains(where: { answers($0, ref) }) { throw e }
      guard case .string = v.kind, let id = try uniquePrefix(live.map(\.id), ref, at: span) else {
        throw notFound(.container, ref, at: span, daemon: e.message)
      }
      return try body(id)
    }
  }

  /// Whether a listed container answers to `ref` (its name, id or jail id, as xc's aliases).
  static func answers(_ c: ContainerNamesRequest.Name, _ ref: String) -> Bool {
    c.name == ref || c.id == ref || c.jid.map(String.init) == ref
  }

  /// Whether a live container answers to `ref`.
  static func isLive(_ s: DaemonSession, _ ref: String, at span: Span) throws -> Bool {
    try s.call(ContainerNamesRequest(), at: span).contains { answers($0, ref) }
  }

  /// The one error for an object that is not there, whatever shape the daemon's answer had:
  /// `container.not_found`, `image.not_found`, `network.not_found`, `volume.not_found`.
  /// `daemon` is the daemon's own answer, kept in the help (it may say more: "ended and was
  /// removed").
  static func notFound(_ type: ObjectType, _ name: String, at span: Span, daemon: String? = nil) -> ShellError {
    var help: String
    switch type {
    case .container: help = "`ps` lists the containers (by name and id)"
    case .image: help = "`images` lists the images; `pull \(name)` fetches it from a registry"
    case .network: help = "`networks` lists the networks; `network ensure` creates one if missing"
    case .volume: help = "`volumes` lists the volumes; `volume ensure` creates one if missing"
    default: help = "the daemon has no \(type.rawValue) of that name"
    }
    if let daemon { help += " (the daemon answered: \(daemon))" }
    return ShellError(notFoundCode(type), "no \(type.rawValue) `\(name)`", at: span, help: help)
  }

  /// Whether `v` is an object (which a daemon listed), not a name or id written by hand.
  static func isObject(_ v: Value) -> Bool {
    if case .object = v.kind { return true }
    return false
  }

  /// The code of `notFound` for objects of `type`.
  static func notFoundCode(_ type: ObjectType) -> ShellError.Code { ShellError.Code(rawValue: "\(type.rawValue).not_found") }

  /// Runs `body`, a call about the `type` object `name`; the daemon's not-found answer becomes
  /// `notFound` when `exists` confirms the object is not there (ENOENT also reports other
  /// missing things, such as a required variable or a file).
  static func about<T>(
    _ type: ObjectType, _ name: String, at span: Span, exists: () throws -> Bool, _ body: () throws -> T
  ) throws -> T {
    do {
      return try body()
    } catch let e as ShellError where e.code == .daemonNotFound {
      if try exists() { throw e }
      throw notFound(type, name, at: span, daemon: e.message)
    }
  }

  /// Whether the error is a typed "not there" from the daemon or from `notFound`.
  static func isNotFound(_ e: ShellError) -> Bool {
    e.code == .daemonNotFound || notFoundCodes.contains(e.code)
  }

  static let notFoundCodes = Set(ObjectNouns.all.map(\.type).map { ShellError.Code(rawValue: "\($0.rawValue).not_found") })

  /// The id of the only one of the `live` container ids that starts with `prefix`; nil if
  /// none, an error naming the candidates if several.
  static func uniquePrefix(_ live: [String], _ prefix: String, at span: Span) throws -> String? {
    guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else { return nil }
    let ids = live.filter { $0.hasPrefix(prefix) }
    if ids.count > 1 {
      throw ShellError(
        .objectAmbiguous, "`\(prefix)` is a prefix of \(ids.count) container ids: \(ids.sorted().joined(separator: ", "))",
        at: span, help: "give more of the id, or the name")
    }
    return ids.first
  }

  /// A container record as a `container` object: the daemon's fields, then the conveniences
  /// `status` (created|running|restarting|exited|faulted|dead), `exit_code` (main's exit code,
  /// or null) and `ip` (the main address, else the first allocated one, without its prefix
  /// length); and `ports` (`8080->80/tcp`, …) when the caller joined the daemon's rules (`ps`).
  static func container(_ m: ContainerManifest, dead: Bool = false, ports: [String]? = nil) throws -> Value {
    var v = try DaemonSession.value(m, as: .container)
    guard case .object(var o) = v.kind else { return v }
    typeTimes(&o.fields)
    o.fields["status"] = .string(status(m, dead: dead))
    o.fields["exit_code"] = exitCode(m).map { .int(Int64($0)) } ?? .null
    o.fields["ip"] = ip(m).map { .string($0) } ?? .null
    if let ports { o.fields["ports"] = .list(ports.map { .string($0) }) }
    // The xcsh extensions at a glance: `health` (starting|healthy|unhealthy, null without a
    // check) and `restarts` (null without a policy).
    o.fields["health"] = m.xcshHealth.map { .string($0.status) } ?? .null
    o.fields["restarts"] = m.xcshRestartCount.map { .int(Int64($0)) } ?? .null
    v = Value(.object(o), v.span)
    return v
  }

  /// The daemon's times as datetimes: `created`, `started`, `finished_at` (epoch nanoseconds)
  /// and each process's `started`, `exited`, `tree_exited` (epoch seconds).
  static func typeTimes(_ fields: inout Record) {
    for key in ["created", "started", "finished_at"] {
      if case .int(let ns)? = fields[key]?.kind { fields[key] = Value(.datetime(ns)) }
    }
    guard case .record(var processes)? = fields["processes"]?.kind else { return }
    for (name, process) in processes {
      guard case .record(var p) = process.kind else { continue }
      for key in ["started", "exited", "tree_exited"] {
        if case .int(let seconds)? = p[key]?.kind {
          let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
          if !overflow { p[key] = Value(.datetime(ns)) }
        }
      }
      processes[name] = .record(p)
    }
    fields["processes"] = .record(processes)
  }

  static func status(_ m: ContainerManifest, dead: Bool) -> String {
    if dead { return "dead" }
    if m.xcshRestarting == true { return "restarting" }
    if m.fault != nil { return "faulted" }
    if m.finishedAt != nil { return "exited" }
    // With a restart policy main's exit is final only once the daemon sets `finished_at`: until
    // then it may be started again (the daemon marks `xcsh_restarting` a moment after main ends).
    if m.xcshRestart != nil, m.started != nil { return "running" }
    if let main = m.processes["main"], main.exited != nil || main.exitCode != nil { return "exited" }
    if m.started != nil || m.processes["main"]?.started != nil { return "running" }
    return "created"
  }

  static func exitCode(_ m: ContainerManifest) -> Int32? {
    guard let raw = m.processes["main"]?.exitCode else { return nil }
    return WaitStatus(rawValue: Int32(truncatingIfNeeded: raw)).shellExitCode
  }

  static func ip(_ m: ContainerManifest) -> String? {
    if let a = m.mainAddress, !a.isEmpty { return String(a.split(separator: "/")[0]) }
    for alloc in m.ipAlloc where alloc.interface != "lo0" && alloc.interface != "lo" {
      if let a = alloc.addresses.first { return String(a.split(separator: "/")[0]) }
    }
    return nil
  }

  /// A container by reference, shown (`show_container`) as an object.
  static func show(_ s: DaemonSession, _ v: Value, at span: Span) throws -> Value {
    try withContainer(s, v, at: span) { ref in
      let r = try s.call(ShowContainerRequest(id: ref), at: span)
      return try container(r.runningContainer, dead: r.containerDead)
    }
  }

  // MARK: Images, networks, volumes

  /// An image reference: a string, or an image object's `image_reference`.
  static func imageRef(_ v: Value, at span: Span) throws -> String {
    switch v.kind {
    case .string(let s): return s
    case .object(let o):
      if case .string(let r)? = o.fields["image_reference"]?.kind { return r }
      throw ShellError(.objectField, "this \(o.type.rawValue) object has no image_reference", at: span)
    case .record(let r):
      if case .string(let ref)? = r["image_reference"]?.kind { return ref }
      fallthrough
    default:
      throw ShellError.typeMismatch(expected: "image or reference", found: v, at: span)
    }
  }

  /// A network's or volume's name: a string, or an object's `name`.
  static func name(_ v: Value, _ what: String, at span: Span) throws -> String {
    switch v.kind {
    case .string(let s): return s
    case .object(let o):
      if case .string(let n)? = o.fields["name"]?.kind { return n }
      throw ShellError(.objectField, "this \(o.type.rawValue) object has no name", at: span)
    default:
      throw ShellError.typeMismatch(expected: "\(what) or name", found: v, at: span)
    }
  }

  /// `{action, object}`: what an idempotent form did.
  static func ensured(_ action: String, _ object: Value) -> Value {
    .record(Record([("action", .string(action)), ("object", brief(object))]))
  }

  /// The object marked brief (`ObjectValue.brief`): a terminal shows it as one line.
  static func brief(_ v: Value) -> Value {
    guard case .object(var o) = v.kind else { return v }
    o.brief = true
    return Value(.object(o), v.span)
  }

  /// The `ensure` forms of objects that can only be replaced whole (networks, volumes): keep a
  /// matching `existing` one, else remove it and create; `{action, object}` either way.
  static func ensure<Old>(
    existing: Old?, matches: (Old) -> Bool, object: (Old) throws -> Value,
    remove: () throws -> Void, create: () throws -> Value
  ) throws -> Value {
    guard let old = existing else { return ensured("created", try create()) }
    if matches(old) { return ensured("unchanged", try object(old)) }
    try remove()
    return ensured("replaced", try create())
  }
}

extension ObjectArgs {
  /// A new eventfd for a notification, or an error located at the call.
  static func eventfd(_ call: Call) throws -> EventFD {
    do { return try EventFD.create() } catch {
      throw ShellError(.systemEventfd, "cannot create an eventfd: \(error)", at: call.head)
    }
  }
}
