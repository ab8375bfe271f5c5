import XCIPC

/// Errors of a remote host, each naming the host and the stage that failed: ssh, the relay's
/// build, the relay, the daemon's socket there, or the call.
public enum RemoteErrors {
  /// The daemon could not be reached from the relay, from the key=value lines of its hello
  /// or notice (`connect`, `connect_class`, `error`, `socket`, `socket_mode`, `socket_group`,
  /// `user`); nil when it was reached (`connect=0`).
  static func daemonUnreachable(host: String, method: String? = nil, info: [String: String]) -> IPCError? {
    guard let code = info["connect"], code != "0" else { return nil }
    let socket = info["socket"] ?? "the daemon's socket"
    let reason = info["error"] ?? "error \(code)"
    switch info["connect_class"] {
    case "missing", "refused":
      return IPCError(
        .noDaemon, method: method,
        "host \(host): no daemon is listening at \(socket) (\(reason)): start xcd there, or give its socket as ssh://\(host)/path/to/xc.sock")
    case "denied":
      let user = info["user"].map { "user \($0)" } ?? "the ssh user"
      var who = ""
      if let mode = info["socket_mode"], let group = info["socket_group"] {
        who = " (the socket is mode 0\(mode) for group \(group.isEmpty ? "gid \(info["socket_gid"] ?? "?")" : group))"
      }
      return IPCError(
        .permissionDenied, method: method,
        "host \(host): permission denied connecting to \(socket) as \(user)\(who): add \(user) to the socket's group there, or connect as root")
    default:
      return IPCError(.system, method: method, "host \(host): the relay cannot connect to \(socket): \(reason)")
    }
  }

  /// A NOTICE from the relay while `method` was in flight.
  static func fromNotice(host: String, method: String, _ n: [String: String]) -> IPCError {
    if let e = daemonUnreachable(host: host, method: method, info: n) { return e }
    if n["xc"] == "closed" {
      return IPCError(
        .connectionClosed, method: method,
        "host \(host): the daemon closed the connection without answering `\(method)` (xcd does this when the payload does not match the method)")
    }
    if let path = n["path"] {
      // A host-path mount's path, opened there (docs/remote.md): the call never reached the daemon.
      switch n["path_class"] {
      case "missing":
        return IPCError(.system, method: method, "host \(host): no such host path `\(path)`", errno: .noSuchFileOrDirectory)
      case "denied":
        return IPCError(
          .permissionDenied, method: method, "host \(host): permission denied opening host path `\(path)` there",
          errno: .permissionDenied)
      default:
        return IPCError(.system, method: method, "host \(host): cannot open host path `\(path)` there: \(n["error"] ?? "error \(n["relay"] ?? "?")")")
      }
    }
    if let err = n["relay"] {
      return IPCError(.system, method: method, "host \(host): the relay failed `\(method)`: \(n["error"] ?? "error \(err)")")
    }
    if let p = n["protocol"] {
      return IPCError(.protocolViolation, method: method, "host \(host): the relay reported a protocol error: \(p)")
    }
    return IPCError(.protocolViolation, method: method, "host \(host): unexpected notice from the relay: \(n)")
  }
}
