import Foundation
import Glibc
import XCIPC
import XCSystem

/// Who may use xcd's socket: root, and members of one configurable group.
///
/// Two layers: the socket file is `0660 root:<group>` (the kernel refuses `connect` to
/// everyone else), and each connection's peer is checked with `SO_PEERCRED`: uid 0, or a
/// primary or supplementary group equal to the socket's group (supplementary groups read from
/// `/proc/<pid>/status`, since `SO_PEERCRED` carries only the primary one). The second layer
/// holds even if the file mode is loosened by mistake. Without a group, only root is admitted.
struct SocketAccess: Sendable {
  /// The group allowed besides root, if any.
  var group: Group?

  struct Group: Sendable, Equatable {
    var gid: gid_t
    /// Its name, or the number when /etc/group does not know it.
    var name: String
  }

  struct LookupError: Error, CustomStringConvertible {
    var description: String
  }

  /// Resolves `socket_group` / `--socket-group`: a group name, or a numeric gid.
  static func resolve(_ spec: String?) throws -> SocketAccess {
    guard let spec, !spec.isEmpty else { return SocketAccess(group: nil) }
    if let g = getgrnam(spec) {
      return SocketAccess(group: Group(gid: g.pointee.gr_gid, name: spec))
    }
    if let gid = gid_t(spec) {
      var name = spec
      if let g = getgrgid(gid), let n = g.pointee.gr_name { name = String(cString: n) }
      return SocketAccess(group: Group(gid: gid, name: name))
    }
    throw LookupError(
      description: "socket group \(spec) does not exist (give a name from /etc/group or a gid)")
  }

  /// Owner root, the group (or root's), mode 0660.
  func apply(to path: String) throws {
    guard chown(path, 0, group?.gid ?? 0) == 0 else {
      throw LookupError(
        description: "cannot chown \(path) to root:\(group?.name ?? "root"): \(String(cString: strerror(errno)))")
    }
    guard chmod(path, 0o660) == 0 else {
      throw LookupError(
        description: "cannot chmod 0660 \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Describes who is allowed, for messages.
  var allowed: String {
    guard let group else { return "only root may use this socket (no socket_group is set)" }
    return "only root and members of group \(group.name) (gid \(group.gid)) may use this socket"
  }

  /// nil when `peer` may use the daemon, else the refusal answered to it.
  func check(_ peer: PeerCredentials) -> XCDaemonError? {
    if peer.uid == 0 { return nil }
    if let group {
      if peer.gid == group.gid { return nil }
      if Self.supplementaryGroups(pid: peer.pid).contains(group.gid) { return nil }
    }
    return XCDaemonError(
      errno: XCPeerPolicy.refusedErrno,
      "permission denied for uid \(peer.uid) (pid \(peer.pid)): \(allowed)")
  }

  var policy: XCPeerPolicy { XCPeerPolicy { peer in self.check(peer) } }

  /// The `Groups:` line of /proc/<pid>/status; empty if the process is gone.
  static func supplementaryGroups(pid: Int32) -> [gid_t] {
    guard pid > 0,
      let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") })
    else { return [] }
    return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
      .compactMap { gid_t($0) }
  }
}
