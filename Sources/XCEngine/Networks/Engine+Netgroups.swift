import Foundation
import Glibc

/// Network groups (xc's `add-netgroup`, `commit_netgroup`): `/etc/hosts` of the members.
extension Engine {
  // MARK: - Network groups

  /// Adds a container to group `name` (xc's `add-netgroup`).
  public func addToNetgroup(_ name: String, container: String, autoCreate: Bool, commit: Bool) throws {
    let c = try find(container)
    if !autoCreate, try state.netgroupMembers(name).isEmpty {
      throw EngineError(.networkNotFound, "netgroup not found: \(name)", errno: ENOENT)
    }
    try state.joinNetgroup(name, container: c.id)
    if commit { try commitNetgroup(name) }
  }

  /// Rewrites `/etc/hosts` of every member of group `name` (xc's `commit_netgroup`):
  /// localhost, then `<address> <name> [<hostname>]` for each member with an address on that network.
  public func commitNetgroup(_ name: String) throws {
    let members = try state.netgroupMembers(name).compactMap { try? find($0) }
    if members.isEmpty { throw EngineError(.networkNotFound, "netgroup not found: \(name)", errno: ENOENT) }
    var hosts = "::1 localhost\n127.0.0.1 localhost\n"
    for m in members {
      guard let a = m.record.ip_alloc?.first(where: { $0.network == name })?.addresses.first else { continue }
      // The host name too when it differs (a stack's service name): a plain label only, so a
      // client's host name can never add a line or another entry.
      let host = m.record.hostname
      let alias =
        host != m.record.name && !host.isEmpty && host.count <= 63
        && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } ? " \(host)" : ""
      hosts += "\(a.split(separator: "/")[0]) \(m.record.name)\(alias)\n"
    }
    for m in members {
      let path = try RootfsAccess(root: m.record.root).hostPath("/etc/hosts", createParents: true)
      let fd = try sysCall("write /etc/hosts of \(m.id)") {
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
      }
      defer { closeQuietly(fd) }
      try writeAll(fd, Array(hosts.utf8))
    }
  }
}
