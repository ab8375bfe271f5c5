import Foundation
import Glibc

/// Port redirections (xc's `rdr`): stored in SQLite, applied as nftables rules.
extension Engine {
  // MARK: - Port redirections

  /// Adds a redirection to the container's main address (xc's `rdr`); returns it with
  /// `destAddr` filled in.
  public func addRedirect(_ name: String, _ redirect: PortRedirect) throws -> PortRedirect {
    try checkOpen()
    let c = try find(name)
    guard let main = c.record.main_address else {
      throw EngineError(
        .noAddress, "container \(name) has no main address to redirect to",
        help: "give it an address with a network (ipreq) or ips", errno: EINVAL)
    }
    let rule = try validated(redirect, to: main, container: c.id)
    try installRedirects([rule], container: c.id, vnetBridge: bridgeOf(c.record))
    return rule
  }

  /// Every redirection of every container (xc's `list_rdr_rules`).
  public func redirects() throws -> [PortRedirect] { try state.redirects() }

  func validated(_ r: PortRedirect, to main: String, container: String) throws -> PortRedirect {
    var rule = r
    rule.destAddr = main
    rule.containerID = container
    for i in r.ifaces ?? [] { try InterfaceName.validate(i, field: "port redirection: ifaces") }
    rule.addresses = try r.addresses.map { list in
      try list.map { try IPv4CIDR(parsing: $0, field: "port redirection: addresses").description }
    }
    let known = ["tcp", "udp", "sctp"]
    rule.protocols = try (r.protocols.isEmpty ? ["tcp", "udp"] : r.protocols).map { p in
      let lower = p.lowercased()
      guard known.contains(lower) else {
        throw EngineError(.badRequest, "port redirection: unknown protocol \(p)", errno: EINVAL)
      }
      return lower
    }
    let span = r.sourcePortEnd - r.sourcePortStart
    guard (1...65535).contains(r.sourcePortStart), (1...65535).contains(r.sourcePortEnd), span >= 0,
      span < 1024, (1...65535).contains(r.destPort), r.destPort + span <= 65535
    else {
      throw EngineError(
        .badRequest,
        "port redirection: bad ports \(r.sourcePortStart)-\(r.sourcePortEnd) -> \(r.destPort) (1-65535, ranges up to 1024 ports)",
        errno: EINVAL)
    }
    return rule
  }

  /// The bridge of a VNET container's first managed network (where route_localnet must be on
  /// for connections from 127.0.0.1 to reach it).
  func bridgeOf(_ record: ContainerRecord) -> String? {
    guard record.vnet == true, let net = record.ip_alloc?.first(where: { $0.network != nil })?.network
    else { return nil }
    return (try? state.network(net))?.bridge_iface
  }

  func installRedirects(_ rules: [PortRedirect], container: String, vnetBridge: String?) throws {
    Self.redirectLock.lock()
    defer { Self.redirectLock.unlock() }
    if let vnetBridge { try IPRoute().setInterfaceSysctl(vnetBridge, "route_localnet", "1") }
    if rules.contains(where: { !($0.ifaces ?? []).isEmpty }) {
      // Traffic arriving on an external interface is forwarded to the bridge.
      try IPRoute.writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
    }
    for rule in rules { try state.addRedirect(rule, container: container) }
    do { try applyRedirects() } catch {
      releaseLeases(of: container)
      throw error
    }
  }

  /// Rewrites the nftables rules from the stored redirections.
  func refreshRedirects() throws {
    Self.redirectLock.lock()
    defer { Self.redirectLock.unlock() }
    try applyRedirects()
  }

  /// With `redirectLock` held.
  func applyRedirects() throws {
    let table = nftTable
    let rules = try state.redirects()
    let ready = Self.readyTables.contains(table)
    if !ready && rules.isEmpty { return }
    try nftables.apply(rules, create: !ready)
    Self.readyTables.insert(table)
  }

  /// Deletes the engine's nftables table (on shutdown and start; no rule may be left).
  func removeRedirectTable() {
    Self.redirectLock.lock()
    defer { Self.redirectLock.unlock() }
    guard access(nftables.nft, X_OK) == 0 else { return }
    do { try nftables.remove() } catch {
      logger.error("cannot delete the nftables table", metadata: ["table": "\(nftTable)", "error": "\(error)"])
    }
    Self.readyTables.remove(nftTable)
  }
}
