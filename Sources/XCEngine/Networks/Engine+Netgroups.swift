import Foundation
import Glibc

/// Network groups (xc's `add-netgroup`, `commit_netgroup`): `/etc/hosts` of the members.
extension Engine {
  // MARK: - Network groups

  /// Adds a container to group `name` (xc's `add-netgroup`).
  public func addToNetgroup(_ name: String, container: String, autoCreate: Bool, commit: Bool) throws {
    let c = try find(container)
    if !autoCreate, try state.netgroupMembers(name).isEmpty {
      throw EngineError(.networkNotFound, "netgroup not found: \(name)", errno: .noSuchFileOrDirectory)
    }
    try state.joinNetgroup(name, container: c.id)
    if commit { try commitNetgroup(name) }
  }

  /// Rewrites `/etc/hosts` of every member of group `name` (xc's `commit_netgroup`):
  /// localhost, then `<address> <name> [<hostname>]` for each member of each group the
  /// container is in (a container in two groups, as a stack's service on two networks, names
  /// the members of both), with the address it has on that group's network.
  public func commitNetgroup(_ name: String) throws {
    let members = try state.netgroupMembers(name).compactMap { try? find($0) }
    if members.isEmpty { throw EngineError(.networkNotFound, "netgroup not found: \(name)", errno: .noSuchFileOrDirectory) }
    for m in members {
      var lines: [String] = []
      for group in try state.netgroups(of: m.id) {
        for peer in try state.netgroupMembers(group).compactMap({ try? find($0) }) {
          if let line = Self.hostsLine(peer.record, network: group), !lines.contains(line) { lines.append(line) }
        }
      }
      let hosts = "::1 localhost\n127.0.0.1 localhost\n" + lines.joined()
      let path = try RootfsAccess(root: m.record.root).hostPath("/etc/hosts", createParents: true)
      let fd = try sysCall("write /etc/hosts of \(m.id)") {
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
      }
      defer { closeQuietly(fd) }
      try writeAll(fd, Array(hosts.utf8))
    }
  }

  /// A container's hosts line on `network`: its address, its name, and its host name when that
  /// differs (a stack's service name); a plain label only, so a client-chosen host name can
  /// never add a line or another entry. Nil without an address there.
  static func hostsLine(_ record: ContainerRecord, network: String) -> String? {
    guard let a = record.ip_alloc?.first(where: { $0.network == network })?.addresses.first else { return nil }
    let host = record.hostname
    let alias =
      host != record.name && !host.isEmpty && host.count <= 63
      && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } ? " \(host)" : ""
    return "\(a.split(separator: "/")[0]) \(record.name)\(alias)\n"
  }
}
