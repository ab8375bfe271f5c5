import Foundation
import Glibc
import Logging

/// Port redirections (xc's `rdr`): stored in SQLite with the leases, applied as the rules of
/// one nftables table of the engine's own. Thread-safe: rewrites of the table are serialised.
final class Redirects: @unchecked Sendable {
  let state: StateStore
  let nftables: NFTables
  let logger: Logger
  /// Serialises rewrites of the table (its rules are read from SQLite and applied whole) and
  /// guards `tableReady`.
  private let lock = NSLock()
  /// The table exists with its chains (made by this engine): only its rules need rewriting.
  private var tableReady = false

  /// `nft`: the nftables program (a stand-in in the unit tests, which need no root).
  init(table: String, nft: String = NFTables.defaultBinary, state: StateStore, logger: Logger) {
    nftables = NFTables(nft: nft, table: table)
    self.state = state
    self.logger = logger
  }

  var table: String { nftables.table }

  /// Every redirection of every container (xc's `list_rdr_rules`).
  func all() throws -> [PortRedirect] { try state.redirects() }

  /// `r` checked and completed: to `main`, of `container`, protocols and addresses canonical.
  static func validated(_ r: PortRedirect, to main: String, container: String) throws -> PortRedirect {
    var rule = r
    rule.destAddr = main
    rule.containerID = container
    for i in r.ifaces ?? [] { try InterfaceName.validate(i, field: "port redirection (xcsh: -p): ifaces") }
    rule.addresses = try r.addresses.map { list in
      try list.map { try IPv4CIDR(parsing: $0, field: "port redirection (xcsh: -p): addresses").description }
    }
    let known = ["tcp", "udp", "sctp"]
    rule.protocols = try (r.protocols.isEmpty ? ["tcp", "udp"] : r.protocols).map { p in
      let lower = p.lowercased()
      guard known.contains(lower) else {
        throw EngineError(.badRequest, "port redirection (xcsh: -p): unknown protocol \(p)", errno: .invalidArgument)
      }
      return lower
    }
    let span = r.sourcePortEnd - r.sourcePortStart
    guard (1...65535).contains(r.sourcePortStart), (1...65535).contains(r.sourcePortEnd), span >= 0,
      span < 1024, (1...65535).contains(r.destPort), r.destPort + span <= 65535
    else {
      throw EngineError(
        .badRequest,
        "port redirection (xcsh: -p): bad ports \(r.sourcePortStart)-\(r.sourcePortEnd) -> \(r.destPort) (1-65535, ranges up to 1024 ports)",
        errno: .invalidArgument)
    }
    return rule
  }

  /// Stores `rules` for `container` and rewrites the table; on failure the container's
  /// networking rows are released again.
  func install(_ rules: [PortRedirect], container: String, vnetBridge: String?) throws {
    lock.lock()
    defer { lock.unlock() }
    // Connections from 127.0.0.1 reach a VNET container only with route_localnet on its bridge.
    if let vnetBridge { try IPRoute().setInterfaceSysctl(vnetBridge, "route_localnet", "1") }
    if rules.contains(where: { !($0.ifaces ?? []).isEmpty }) {
      // Traffic arriving on an external interface is forwarded to the bridge.
      try IPRoute.writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
    }
    for rule in rules { try state.addRedirect(rule, container: container) }
    do { try apply() } catch {
      do { _ = try state.releaseNetworking(container: container) } catch let undo {
        logger.error("cannot release the container's addresses", metadata: ["id": "\(container)", "error": "\(undo)"])
      }
      throw error
    }
  }

  /// Rewrites the table from the stored redirections.
  func refresh() throws {
    lock.lock()
    defer { lock.unlock() }
    try apply()
  }

  /// With `lock` held.
  private func apply() throws {
    let rules = try state.redirects()
    if !tableReady && rules.isEmpty { return }
    try nftables.apply(rules, create: !tableReady)
    tableReady = true
  }

  /// Deletes the table (on shutdown and start; no rule may be left).
  func removeTable() {
    lock.lock()
    defer { lock.unlock() }
    guard access(nftables.nft, X_OK) == 0 else { return }
    do { try nftables.remove() } catch {
      logger.error("cannot delete the nftables table", metadata: ["table": "\(table)", "error": "\(error)"])
    }
    tableReady = false
  }
}
