import Foundation
import Glibc

/// The network a container gets when it publishes a port or asks for VNET without naming a
/// network or an address (Docker's `bridge`). xcd's `default_network` and
/// `default_network_subnet` (xc.conf) name it; the engine creates its row on the first start,
/// and its bridge when a container first needs it (so a daemon that never uses it adds no
/// bridge to the host), and removes the bridge at shutdown.
public struct DefaultNetwork: Sendable, Equatable {
  public var name: String
  public var subnet: String

  /// 10.219.0.0/24: outside Docker's pools (172.17–172.31/16, 192.168/16), Podman's
  /// 10.88/16, libvirt's 192.168.122/24 and Kubernetes' usual 10.96/12, 10.244/16, 10.42/16.
  public static let standardSubnet = "10.219.0.0/24"
  public static let standardName = "default"

  public init(name: String = standardName, subnet: String = standardSubnet) {
    self.name = name
    self.subnet = subnet
  }
}

extension Networking {
  /// The bridge name the engine gives a network created without one: `xb` + 5 hex of the
  /// engine's tag + 8 hex of the network name's SHA-256 = 15 characters, the kernel's limit;
  /// unique per engine and network.
  func autoBridgeName(_ network: String) -> String {
    var h = SHA256()
    h.update(Array(network.utf8))
    return "xb" + tag.prefix(5) + h.finalizeHex().prefix(8)
  }

  /// `create_network` without `bridge_iface` or `alias_iface` but with a subnet: the engine
  /// names the bridge it will create, and gives it the subnet's first host address as the
  /// default router when none is given (what Docker and Podman do).
  func filled(_ request: Network) throws -> Network {
    var net = request
    guard net.bridge_iface == nil, net.alias_iface == nil, let s = net.subnet else { return net }
    let subnet = try IPv4CIDR(parsing: s, field: "create_network: subnet")
    net.bridge_iface = autoBridgeName(net.name)
    if net.default_router == nil {
      guard subnet.prefix <= 30 else {
        throw EngineError(
          .badRequest,
          "create_network: subnet \(s) has no room for a router address; give a /30 or wider, or default_router (xcsh: network create --default-router)",
          errno: .invalidArgument)
      }
      net.default_router = IPv4Address(subnet.network.value + 1).description
    }
    return net
  }

  /// Creates the default network's row if it is missing (the first start); its bridge is made
  /// on first use. A configured network that exists is used as it is.
  func ensureDefault() throws {
    guard let d = defaultNetwork, try state.network(d.name) == nil else { return }
    var net = try filled(Network(name: d.name, subnet: d.subnet))
    let subnet = try IPv4CIDR(parsing: d.subnet, field: "default_network_subnet")
    net.subnet = "\(subnet.network)/\(subnet.prefix)"
    net.start_addr = subnet.network.description
    net.end_addr = subnet.broadcast.description
    net.bridge_created = true
    guard try state.insertNetwork(net) else { return }
    logger.info("default network recorded (its bridge is made on first use)", metadata: ["name": "\(net.name)", "subnet": "\(d.subnet)"])
  }

  /// The container's network request with the default network filled in: a container that
  /// publishes ports or asks for VNET, with no network and no address of its own, gets an
  /// address from the default network in a namespace of its own (VNET), as Docker's `-p`
  /// does. Such a request was refused before ("port_redirections need a main address"), so no
  /// request that worked changes meaning.
  func withDefault(_ spec: ContainerNetworkSpec) -> ContainerNetworkSpec {
    guard let d = defaultNetwork, spec.requests.isEmpty,
      !spec.statics.contains(where: { $0.interface != "lo0" && $0.interface != "lo" }),
      spec.vnet || !spec.redirects.isEmpty
    else { return spec }
    var spec = spec
    spec.requests = [.any(network: d.name)]
    spec.vnet = true
    return spec
  }

  /// Makes the bridge of a network the engine created if it is missing (the default network's
  /// is made on first use, and removed at shutdown).
  func ensureBridge(_ net: Network) throws {
    guard net.bridge_created, let b = net.bridge_iface else { return }
    bridgeLock.lock()
    defer { bridgeLock.unlock() }
    if !IPRoute().linkExists(b) { try makeBridge(net, b) }
  }

  /// At shutdown: the default network's bridge goes (no container is left on it).
  func removeDefaultBridge() {
    guard let d = defaultNetwork else { return }
    do {
      guard let net = try state.network(d.name), net.bridge_created, let b = net.bridge_iface else { return }
      if IPRoute().linkExists(b) { try IPRoute().deleteLink(b) }
    } catch {
      logger.error("cannot remove the default network's bridge", metadata: ["error": "\(error)"])
    }
  }
}
