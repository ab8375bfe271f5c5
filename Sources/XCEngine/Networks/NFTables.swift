/// The engine's port redirections as one nftables table of its own (`ip` family).
///
/// The table's name is unique per state directory (`xcd_` + 8 hex of its path's SHA-256), so
/// daemons running side by side never touch each other's rules. Creating chains registers
/// netfilter hooks, which costs the kernel tens of milliseconds; so the table is created once
/// (the first time a rule is needed) and afterwards only its two rule chains are flushed and
/// refilled, in one transaction. It is deleted when the engine shuts down or starts.
struct NFTables {
  static let defaultBinary = "/usr/sbin/nft"
  var nft = NFTables.defaultBinary
  let table: String

  /// Makes the table hold exactly `redirects` (each with `destAddr` and `ifaces` resolved).
  /// `create`: the table may not exist yet (declare, delete, re-create it whole).
  func apply(_ redirects: [PortRedirect], create: Bool) throws {
    let script = create ? ruleset(redirects) : refill(redirects)
    try IPRoute().run([nft, "-f", "-"], input: script, what: "update nftables table \(table)")
  }

  /// Deletes the table if it exists.
  func remove() throws {
    try IPRoute().run(
      [nft, "-f", "-"], input: "table ip \(table)\ndelete table ip \(table)\n",
      what: "delete nftables table \(table)")
  }

  /// The whole table: declared (so the delete cannot fail), deleted, re-created — one
  /// transaction, so no packet sees a half-written table.
  func ruleset(_ redirects: [PortRedirect]) -> String {
    var out = "table ip \(table)\ndelete table ip \(table)\ntable ip \(table) {\n"
    out += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n  }\n"
    out += "  chain output {\n    type nat hook output priority -100; policy accept;\n  }\n"
    // Connections from 127.0.0.1 redirected onto a bridge need a source the container can
    // answer: the bridge's address (with route_localnet set on the bridge).
    out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
    out += "    ip saddr 127.0.0.0/8 oifname != \"lo\" ct status dnat masquerade\n  }\n}\n"
    return out + refill(redirects)
  }

  /// Flushes the two rule chains and adds the rules of `redirects`.
  func refill(_ redirects: [PortRedirect]) -> String {
    var out = "flush chain ip \(table) prerouting\nflush chain ip \(table) output\n"
    for r in redirects {
      guard let dest = r.destAddr else { continue }
      let ifaces = r.ifaces ?? []
      let daddrs = r.addresses.map { "ip daddr { \($0.joined(separator: ", ")) } " } ?? ""
      // From the host itself: loopback always, and the given (or any local) addresses.
      let hostMatch =
        r.addresses.map { "ip daddr { 127.0.0.0/8, \($0.joined(separator: ", ")) } " }
        ?? "fib daddr type local "
      for proto in r.protocols {
        for offset in 0...(r.sourcePortEnd - r.sourcePortStart) {
          let match = "\(proto) dport \(r.sourcePortStart + offset)"
          let target = "dnat to \(dest):\(r.destPort + offset)"
          if !ifaces.isEmpty {
            let names = ifaces.map { "\"\($0)\"" }.joined(separator: ", ")
            out += "add rule ip \(table) prerouting iifname { \(names) } \(daddrs)fib daddr type local \(match) \(target)\n"
          }
          out += "add rule ip \(table) output \(hostMatch)\(match) \(target)\n"
        }
      }
    }
    return out
  }
}
