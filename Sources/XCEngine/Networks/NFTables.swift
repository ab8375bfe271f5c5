/// The engine's port redirections as one nftables table of its own (`ip` family), replaced
/// atomically by `nft -f -` whenever the rules change and deleted when none are left.
///
/// The table's name is unique per state directory (`xcd_` + 8 hex of its path's SHA-256), so
/// daemons running side by side never touch each other's rules.
struct NFTables {
  var nft = "/usr/sbin/nft"
  let table: String

  /// Replaces the table's content with rules for `redirects` (each with `destAddr` set);
  /// `extIfs` stands in for a redirect's nil `ifaces`.
  func apply(_ redirects: [PortRedirect], extIfs: [String]) throws {
    try IPRoute().run([nft, "-f", "-"], input: ruleset(redirects, extIfs: extIfs), what: "update nftables table \(table)")
  }

  /// Deletes the table if it exists.
  func remove() throws {
    try apply([], extIfs: [])
  }

  /// The whole script: declare (so the delete cannot fail), delete, re-create — one
  /// transaction, so no packet sees a half-written table.
  func ruleset(_ redirects: [PortRedirect], extIfs: [String]) -> String {
    var out = "table ip \(table)\ndelete table ip \(table)\n"
    guard !redirects.isEmpty else { return out }
    var pre: [String] = []
    var local: [String] = []
    for r in redirects {
      guard let dest = r.destAddr else { continue }
      let ifaces = r.ifaces ?? extIfs
      let daddrs = r.addresses.map { "ip daddr { \($0.joined(separator: ", ")) } " } ?? ""
      for proto in r.protocols {
        for offset in 0...(r.sourcePortEnd - r.sourcePortStart) {
          let match = "\(proto) dport \(r.sourcePortStart + offset)"
          let target = "dnat to \(dest):\(r.destPort + offset)"
          if !ifaces.isEmpty {
            let names = ifaces.map { "\"\($0)\"" }.joined(separator: ", ")
            pre.append("iifname { \(names) } \(daddrs)fib daddr type local \(match) \(target)")
          }
          // From the host itself: loopback always, and the given (or any local) addresses.
          let hostMatch =
            r.addresses.map { "ip daddr { 127.0.0.0/8, \($0.joined(separator: ", ")) } " }
            ?? "fib daddr type local "
          local.append("\(hostMatch)\(match) \(target)")
        }
      }
    }
    out += "table ip \(table) {\n"
    out += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
    for rule in pre { out += "    \(rule)\n" }
    out += "  }\n  chain output {\n    type nat hook output priority -100; policy accept;\n"
    for rule in local { out += "    \(rule)\n" }
    // Connections from 127.0.0.1 redirected onto a bridge need a source the container can
    // answer: the bridge's address (with route_localnet set on the bridge).
    out += "  }\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
    out += "    ip saddr 127.0.0.0/8 oifname != \"lo\" ct status dnat masquerade\n  }\n}\n"
    return out
  }
}
