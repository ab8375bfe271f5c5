import Foundation
import Glibc
import Logging

/// Networks on Linux: a bridge per network, leases in SQLite, VNET containers in network
/// namespaces of their own with veths into the bridge, non-VNET containers' addresses as
/// aliases on a host interface, and port redirections (`Redirects`) as nftables rules in a
/// table of the engine's own. See docs/engine.md. This file: the networks themselves and the
/// names the engine gives what it creates; `Networking+Containers.swift`: a container's
/// leases, interfaces and their release.
///
/// Its state is the network, lease and redirection rows of the state store (each change one
/// transaction) and the host's interfaces; it keeps no other, so it needs no lock of its own.
final class Networking: Sendable {
  let state: StateStore
  let logger: Logger
  let redirects: Redirects
  /// 8 hex of the state directory's SHA-256: names the engine's nftables table and prefixes
  /// its veths, so engines with different state directories never collide.
  let tag: String
  /// The network given to containers that publish ports or ask for VNET without naming one.
  let defaultNetwork: DefaultNetwork?
  /// Serialises making a missing bridge on first use (two creates may need it at once).
  let bridgeLock = NSLock()

  init(layout: StateLayout, state: StateStore, logger: Logger, defaultNetwork: DefaultNetwork? = nil) {
    var h = SHA256()
    h.update(Array(layout.root.utf8))
    tag = String(h.finalizeHex().prefix(8))
    self.state = state
    self.logger = logger
    self.defaultNetwork = defaultNetwork
    redirects = Redirects(table: "xcd_" + tag, state: state, logger: logger)
  }

  /// Host-side veth names of this engine: `xv` + 5 hex of the tag + 7 of the container id +
  /// the network's index = 15 characters, the kernel's limit.
  var vethPrefix: String { "xv" + tag.prefix(5) }
  func vethName(_ id: String, _ index: Int) -> String { vethPrefix + id.prefix(7) + "\(index)" }

  // MARK: - Networks

  /// Creates a network (xc's `create_network`). A missing bridge is created (and given
  /// `default_router` as its address), and removed with the network. Without a bridge or
  /// alias interface, the engine names the bridge and picks the router (`filled`).
  func create(_ request: Network) throws {
    try Names.network(request.name, field: "create_network: name")
    var net = try filled(request)
    if let b = net.bridge_iface { try InterfaceName.validate(b, field: "create_network: bridge_iface (xcsh: network create --bridge)") }
    if let a = net.alias_iface { try InterfaceName.validate(a, field: "create_network: alias_iface (xcsh: network create --alias)") }
    var subnet: IPv4CIDR?
    if let s = net.subnet {
      let c = try IPv4CIDR(parsing: s, field: "create_network: subnet")
      subnet = c
      net.subnet = "\(c.network)/\(c.prefix)"
    }
    for (field, value) in [
      ("start_addr (xcsh: network create NAME SUBNET START)", net.start_addr),
      ("end_addr (xcsh: network create NAME SUBNET START END)", net.end_addr),
      ("default_router (xcsh: network create --default-router)", net.default_router),
    ] {
      guard let value else { continue }
      guard let a = IPv4Address(value) else {
        throw EngineError(.badRequest, "create_network: \(field) \"\(value)\" is not an IPv4 address", errno: .invalidArgument)
      }
      guard subnet?.contains(a) ?? false else {
        throw EngineError(
          .badRequest, "create_network: \(field) \(value) is not in the subnet \(net.subnet ?? "(none)")",
          errno: .invalidArgument)
      }
    }
    if let subnet {
      net.start_addr = net.start_addr ?? subnet.network.description
      net.end_addr = net.end_addr ?? subnet.broadcast.description
    }
    if let a = net.alias_iface, a != net.bridge_iface, !IPRoute().linkExists(a) {
      throw EngineError(.networkNotFound, "create_network: interface not found: \(a)", errno: .noSuchFileOrDirectory)
    }
    let ip = IPRoute()
    var create = false
    if let b = net.bridge_iface {
      if ip.linkExists(b) {
        guard FileSystem.exists("/sys/class/net/\(b)/bridge") else {
          throw EngineError(.badRequest, "create_network: \(b) exists and is not a bridge", errno: .invalidArgument)
        }
      } else {
        create = true
      }
    }
    net.bridge_created = create
    net.last_addr = nil
    // Saved first: a crash after the bridge is made leaves a network that owns it.
    guard try state.insertNetwork(net) else {
      throw EngineError(.networkExists, "Network with such name already exists: \(net.name)", errno: .invalidArgument)
    }
    if create, let b = net.bridge_iface {
      do { try makeBridge(net, b) } catch {
        // Both undone, each whatever the other does; a failure is logged.
        for undo in [{ if ip.linkExists(b) { try ip.deleteLink(b) } }, { try self.state.deleteNetwork(net.name) }] {
          do { try undo() } catch let failure {
            logger.error(
              "cannot undo a failed create_network", metadata: ["name": "\(net.name)", "error": "\(failure)"])
          }
        }
        throw error
      }
    }
    logger.info("network created", metadata: ["name": "\(net.name)", "bridge": "\(net.bridge_iface ?? "-")"])
  }

  func makeBridge(_ net: Network, _ name: String) throws {
    let ip = IPRoute()
    try ip.addBridge(name)
    if let router = net.default_router, let subnet = net.subnet.flatMap({ try? IPv4CIDR(parsing: $0, field: "subnet") }) {
      try ip.addAddress("\(router)/\(subnet.prefix)", to: name)
    }
  }

  /// Every network, ordered by name.
  func all() throws -> [Network] { try state.networks() }

  /// Removes a network no container holds an address of (xcd's `xcsh.remove_network`); its
  /// bridge goes too if the engine created it.
  /// `holder` names a container holding a lease, for the error.
  func remove(_ name: String, holder: (String) -> String) throws {
    guard let net = try state.network(name) else {
      throw EngineError(.networkNotFound, "no such network: \(name)", errno: .noSuchFileOrDirectory)
    }
    let holders = try state.leaseHolders(network: name)
    if !holders.isEmpty {
      let names = holders.map(holder)
      throw EngineError(
        .networkInUse, "network \(name) is in use by containers: \(names.joined(separator: ", "))",
        help: "kill those containers first", errno: .resourceBusy)
    }
    if net.bridge_created, let b = net.bridge_iface, IPRoute().linkExists(b) {
      try IPRoute().deleteLink(b)
    }
    try state.deleteNetwork(name)
    logger.info("network removed", metadata: ["name": "\(name)"])
  }
}
