import Foundation
import XCRemote
import XCShell

/// Which daemon the object commands running on this thread talk to: nil for the script's own
/// (the local daemon, or `--host`'s), else a host as the user named it (an inventory name or an
/// `ssh://` address). `on HOST { … }` and `fleet` set it through the evaluator's ambient `host`,
/// which `RoutedCommand` turns into this thread-local for the extent of each command (`local`,
/// this machine's daemon, is nil unless the script runs on another host); an object routes the
/// calls about it to the daemon it came from: its `host`, or the script's own when it has none
/// (`withHost`).
///
/// A thread-local rather than a parameter: every object command reaches the daemon through
/// `DaemonSession.call`, and threading a route through each of them would touch every call site
/// for no gain in clarity. Each evaluator runs on one thread, and `par-each`/`fleet` workers
/// copy the ambient value into their own.
enum DaemonRoute {
  private static let key = "xcsh.daemon-route"

  /// The host of this thread's object commands, nil for the script's own daemon.
  static var current: String? {
    Thread.current.threadDictionary[key] as? String
  }

  /// Runs `body` with `host` as the route (nil: the script's own daemon), restoring it afterwards.
  static func with<T>(_ host: String?, _ body: () throws -> T) rethrows -> T {
    let dict = Thread.current.threadDictionary
    let saved = dict[key] as? String
    set(host, in: dict)
    defer { set(saved, in: dict) }
    return try body()
  }

  private static func set(_ host: String?, in dict: NSMutableDictionary) {
    if let host { dict[key] = host } else { dict.removeObject(forKey: key) }
  }

  /// The `host` field of an object that came from a remote daemon, else nil.
  static func host(of v: Value) -> String? {
    guard case .object(let o) = v.kind, case .string(let h)? = o.fields["host"]?.kind, !h.isEmpty else { return nil }
    return h
  }

  /// Runs `body` routed to the daemon `v` came from when it is an object: its `host`, or the
  /// script's own daemon when it has none (only the script's own daemon makes objects without
  /// one), wherever the command runs — inside `on a { … }` an object from this machine still
  /// goes to this machine. Anything else (a name, a record) runs on the current route.
  static func withHost<T>(of v: Value, _ body: () throws -> T) rethrows -> T {
    guard case .object = v.kind else { return try body() }
    return try with(host(of: v), body)
  }

  /// `withHost(of:)` around a whole command given `v` as its subject: a stream the command
  /// returns is read on the same route, so the calls it makes while read go there too.
  static func pipe(of v: Value?, _ body: () throws -> XCShell.Pipe) throws -> XCShell.Pipe {
    guard let v, case .object = v.kind else { return try body() }
    let route = host(of: v)
    let out = try with(route, body)
    guard case .stream(let s) = out else { return out }
    return .stream(ValueStream(span: s.span) { try with(route) { try s.next() } })
  }

  /// Runs `body` routed to the one daemon the objects among `values` came from (as `withHost`),
  /// else on the current route when none is an object; an error naming both hosts when they
  /// came from different daemons (a call cannot act on two machines at once).
  static func withHost<T>(ofAll values: [Value], command: String, at span: Span, _ body: () throws -> T) throws -> T {
    guard let origin = try origin(ofAll: values, command: command, at: span) else { return try body() }
    return try with(origin, body)
  }

  /// `withHost(ofAll:)` around a whole command, its stream read on the same route (as `pipe(of:)`).
  static func pipe(ofAll values: [Value], command: String, at span: Span, _ body: () throws -> XCShell.Pipe) throws -> XCShell.Pipe {
    guard let route = try origin(ofAll: values, command: command, at: span) else { return try body() }
    let out = try with(route, body)
    guard case .stream(let s) = out else { return out }
    return .stream(ValueStream(span: s.span) { try with(route) { try s.next() } })
  }

  /// The route of the one daemon the objects among `values` came from (`.some(nil)`: the
  /// script's own), nil when none is an object; `host.mixed` when they came from two.
  static func origin(ofAll values: [Value], command: String, at span: Span) throws -> String?? {
    let objects = values.filter { if case .object = $0.kind { return true } else { return false } }
    guard let first = objects.first else { return nil }
    let origin = host(of: first)
    if let other = objects.first(where: { host(of: $0) != origin }) {
      func name(_ h: String?) -> String { h ?? "this script's own daemon" }
      throw ShellError(
        .hostMixed, "`\(command)` was given objects from two daemons: \(name(origin)) and \(name(host(of: other)))",
        at: span, help: "give objects of one host, or names (they go to the current host)")
    }
    return .some(origin)
  }

  /// The route for the ambient host `name` of `on`/`fleet` (nil: none) in a script whose own
  /// daemon is `own` (nil: this machine's): `local` is this machine's daemon, which is the
  /// script's own route (nil) unless the script runs on another host (`--host`).
  static func route(ambient name: String?, own: String?) -> String? {
    guard let name else { return own }
    if name == local, own == nil { return nil }
    return name
  }

  /// `on local { … }`: this machine's daemon, whatever the script's own is.
  static let local = HostInventory.reservedLocalName
}
