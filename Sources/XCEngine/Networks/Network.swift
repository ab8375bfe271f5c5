/// A network the engine manages (xc's `create_network`): a Linux bridge for VNET containers,
/// an interface for the aliases of non-VNET ones, and an address range to lease from.
public struct Network: Codable, Sendable, Equatable {
  public var name: String
  /// Where non-VNET containers' addresses go as aliases (default: the bridge).
  public var alias_iface: String?
  /// The bridge VNET containers' veths join; created if missing.
  public var bridge_iface: String?
  public var subnet: String?
  public var start_addr: String?
  public var end_addr: String?
  /// The VNET containers' default route; also the bridge's own address when xcd made it.
  public var default_router: String?
  /// The address leased last (allocation goes on after it, wrapping around, as xc does).
  public var last_addr: String?
  /// True when xcd created the bridge, so it removes it with the network.
  public var bridge_created: Bool

  public init(
    name: String, alias_iface: String? = nil, bridge_iface: String? = nil, subnet: String? = nil,
    start_addr: String? = nil, end_addr: String? = nil, default_router: String? = nil
  ) {
    self.name = name
    self.alias_iface = alias_iface
    self.bridge_iface = bridge_iface
    self.subnet = subnet
    self.start_addr = start_addr
    self.end_addr = end_addr
    self.default_router = default_router
    self.bridge_created = false
  }
}

/// What a container asks of the network (xc's `instantiate` networking fields).
public struct ContainerNetworkSpec: Sendable {
  /// An address from a managed network: any free one, or a given one.
  public enum Request: Sendable, Equatable {
    case any(network: String)
    case explicit(network: String, address: String)
  }

  /// A static (unmanaged) assignment: xc's `IpAssign` with no network.
  public struct Static: Sendable, Equatable {
    public var interface: String
    public var addresses: [String]
    public init(interface: String, addresses: [String]) {
      self.interface = interface
      self.addresses = addresses
    }
  }

  /// The resolv.conf policy.
  public enum DNS: Sendable, Equatable {
    case inherit
    case nop
    case specified(servers: [String], searchDomains: [String])
  }

  /// Its own network namespace (with a veth per managed network) instead of the host's.
  public var vnet = false
  public var statics: [Static] = []
  public var requests: [Request] = []
  /// `network/<name>` or `ipaddr/<ip>` (xc's `main_ip_selector`).
  public var mainNetwork: String?
  public var mainAddress: String?
  public var dns: DNS = .inherit
  public var redirects: [PortRedirect] = []
  /// Network groups to join (each must be a network of `requests`).
  public var netgroups: [String] = []

  public init() {}

  var isEmpty: Bool {
    !vnet && statics.isEmpty && requests.isEmpty && redirects.isEmpty && netgroups.isEmpty
  }
}

/// xc's `PortRedirection`: traffic to host port(s) `sourcePorts` goes to the container's
/// main address, port `destPort` (and up, for a range).
public struct PortRedirect: Codable, Sendable, Equatable {
  /// Interfaces whose incoming traffic is redirected; nil = the daemon's `ext_ifs`.
  public var ifaces: [String]?
  /// `tcp`, `udp`, `sctp`.
  public var protocols: [String]
  public var origin: [String]
  /// Host addresses that trigger it; nil = any local address.
  public var addresses: [String]?
  public var sourcePortStart: Int
  public var sourcePortEnd: Int
  public var destPort: Int
  /// Filled in by the engine: the container's main address.
  public var destAddr: String?
  /// The container it leads to.
  public var containerID: String?

  public init(
    ifaces: [String]?, protocols: [String], origin: [String] = [], addresses: [String]?,
    sourcePortStart: Int, sourcePortEnd: Int, destPort: Int
  ) {
    self.ifaces = ifaces
    self.protocols = protocols
    self.origin = origin
    self.addresses = addresses
    self.sourcePortStart = sourcePortStart
    self.sourcePortEnd = sourcePortEnd
    self.destPort = destPort
  }
}

/// An address a container holds on one interface (xc's `IpAssign`).
public struct IPAssignment: Codable, Sendable, Equatable {
  /// nil for static addresses.
  public var network: String?
  /// CIDR text, e.g. `10.0.0.2/24`.
  public var addresses: [String]
  /// The container-side interface (VNET) or the host interface holding the alias.
  public var interface: String

  public init(network: String?, addresses: [String], interface: String) {
    self.network = network
    self.addresses = addresses
    self.interface = interface
  }
}
