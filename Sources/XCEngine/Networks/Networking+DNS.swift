import Foundation
import Glibc

/// A container's resolv.conf (xc's `dns` setting).
extension Networking {
  // MARK: - DNS

  static func isIPv6(_ text: String) -> Bool {
    var addr = in6_addr()
    return inet_pton(AF_INET6, text, &addr) == 1
  }

  /// The container's resolv.conf as its DNS setting says: the host's (read-only), none
  /// (the image's stays), or one written for it in the bundle.
  static func dnsMounts(_ dns: ContainerNetworkSpec.DNS, bundle: String) throws -> [RuntimeSpec.Mount] {
    switch dns {
    case .inherit: return resolvConfMount()
    case .nop: return []
    case .specified(let servers, let domains):
      for s in servers where IPv4Address(s) == nil && !Self.isIPv6(s) {
        throw EngineError(.badRequest, "dns: \"\(s)\" is not an IP address", errno: .invalidArgument)
      }
      for d in domains where d.contains(where: { $0.isWhitespace }) || d.isEmpty {
        throw EngineError(.badRequest, "dns: bad search domain \"\(d)\"", errno: .invalidArgument)
      }
      var text = servers.map { "nameserver \($0)\n" }.joined()
      if !domains.isEmpty { text += "search \(domains.joined(separator: " "))\n" }
      let path = bundle + "/resolv.conf"
      try FileSystem.writeAtomically(path, Array(text.utf8))
      return [RuntimeSpec.Mount(
        destination: "/etc/resolv.conf", type: "bind", source: path,
        options: ["rbind", "ro", "nosuid", "nodev", "noexec"])]
    }
  }

  /// DNS "Inherit": the host's resolv.conf, read-only, when there is one.
  static func resolvConfMount() -> [RuntimeSpec.Mount] {
    guard FileSystem.exists("/etc/resolv.conf") else { return [] }
    return [RuntimeSpec.Mount(destination: "/etc/resolv.conf", type: "bind", source: "/etc/resolv.conf",
                              options: ["rbind", "ro", "nosuid", "nodev", "noexec"])]
  }
}
