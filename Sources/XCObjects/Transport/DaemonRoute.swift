import Foundation
import XCShell

/// Which daemon the object commands running on this thread talk to: nil for the script's own
/// (the local daemon, or `--host`'s), else a host as the user named it (an inventory name or an
/// `ssh://` address). `on HOST { … }` and `fleet` set it through the evaluator's ambient `host`,
/// which `RoutedCommand` turns into this thread-local for the extent of each command; an object
/// that carries a `host` field routes the calls about it there (`withHost`).
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

  /// Runs `body` routed to the host of `v` when it carries one, else on the current route.
  static func withHost<T>(of v: Value, _ body: () throws -> T) rethrows -> T {
    try withHost(of: host(of: v), body)
  }

  /// Runs `body` routed to `host` when there is one, else on the current route.
  static func withHost<T>(of host: String?, _ body: () throws -> T) rethrows -> T {
    guard let host else { return try body() }
    return try with(host, body)
  }
}
