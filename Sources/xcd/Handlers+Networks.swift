import Foundation
import XCEngine
import XCIPC

// MARK: - Networks, port redirections, network groups

extension Handlers {
  func registerNetworks(_ table: inout XCMethodTable) {
    serve(&table, CreateNetworkRequest.self) { r, _ in
      try Self.checkNetworkNames(r)
      var net = XCEngine.Network(
        name: r.name, alias_iface: r.aliasIface, bridge_iface: r.bridgeIface, subnet: r.subnet,
        start_addr: r.startAddr, end_addr: r.endAddr, default_router: r.defaultRouter)
      net.last_addr = nil
      try self.engine.createNetwork(net)
      return NullResponse()
    }

    serve(&table, ListNetworksRequest.self) { _, _ in
      ListNetworksResponse(
        networkInfo: try self.engine.networks().map {
          NetworkInfo(
            name: $0.name, subnet: $0.subnet, startAddr: $0.start_addr, endAddr: $0.end_addr,
            lastAddr: $0.last_addr, aliasIface: $0.alias_iface, bridgeIface: $0.bridge_iface)
        })
    }

    serve(&table, RemoveNetworkRequest.self) { r, _ in
      try Names.network(r.name, field: "xcsh.remove_network: name")
      try self.engine.removeNetwork(r.name)
      return NullResponse()
    }

    serve(&table, RdrRequest.self) { r, _ in
      _ = try self.engine.addRedirect(r.name, try self.redirect(r.redirection, field: "rdr: redirection (xcsh: rdr add -p)"))
      return r  // xc echoes the request
    }

    serve(&table, ListRdrRulesRequest.self) { _, _ in
      try self.engine.redirects().map(Self.portRedirection)
    }

    serve(&table, AddNetgroupRequest.self) { r, _ in
      try Names.network(r.netgroupName, field: "add-netgroup: netgroup_name")
      try Names.containerOrID(r.containerName, field: "add-netgroup: container_name")
      try self.engine.addToNetgroup(
        r.netgroupName, container: r.containerName, autoCreate: r.autoCreateNetgroup,
        commit: r.commitImmediately)
      return NullResponse()
    }

    serve(&table, CommitNetgroupRequest.self) { r, _ in
      try Names.network(r.netgroupName, field: "commit_netgroup: netgroup_name")
      try self.engine.commitNetgroup(r.netgroupName)
      return NullResponse()
    }
  }

  /// The networking fields of an `instantiate` request as the engine's spec.
  func networkSpec(_ r: InstantiateRequest) throws -> ContainerNetworkSpec {
    var spec = ContainerNetworkSpec()
    spec.vnet = r.vnet
    for (i, ip) in r.ips.enumerated() {
      if let n = ip.network {
        throw XCDaemonError.invalid(
          "instantiate: ips[\(i)] (xcsh: --ip) names network \(n); addresses of networks go in ipreq (xcsh: --network)")
      }
      spec.statics.append(.init(interface: ip.interface, addresses: ip.addresses))
    }
    for (i, req) in r.ipreq.enumerated() {
      switch req {
      case .any(let n), .explicit(let n, _): try Names.network(n, field: "instantiate: ipreq[\(i)].network (xcsh: --network)")
      }
    }
    if case .network(let n)? = r.mainIpSelector { try Names.network(n, field: "instantiate: main_ip_selector (xcsh: --main-address)") }
    for (i, g) in r.netgroups.enumerated() { try Names.network(g, field: "instantiate: netgroups[\(i)] (xcsh: --net-group)") }
    spec.requests = r.ipreq.map {
      switch $0 {
      case .any(let n): .any(network: n)
      case .explicit(let n, let ip): .explicit(network: n, address: ip)
      }
    }
    switch r.mainIpSelector {
    case .network(let n)?: spec.mainNetwork = n
    case .ipAddress(let a)?: spec.mainAddress = a
    case nil: break
    }
    spec.dns =
      switch r.dns {
      case .inherit: .inherit
      case .nop: .nop
      case .specified(let servers, let domains): .specified(servers: servers, searchDomains: domains)
      }
    spec.redirects = try r.portRedirections.enumerated().map {
      try redirect($1, field: "instantiate: port_redirections[\($0)] (xcsh: -p)")
    }
    spec.netgroups = r.netgroups
    return spec
  }

  /// A `create_network` request's names (the network's, its bridge's and alias interface's),
  /// checked before the engine touches any interface.
  static func checkNetworkNames(_ r: CreateNetworkRequest) throws {
    try Names.network(r.name, field: "create_network: name")
    if let b = r.bridgeIface { try Names.interface(b, field: "create_network: bridge_iface (xcsh: network create --bridge)") }
    if let a = r.aliasIface { try Names.interface(a, field: "create_network: alias_iface (xcsh: network create --alias)") }
  }

  /// A wire redirection as the engine's, with nil `ifaces` resolved to the daemon's `ext_ifs`.
  func redirect(_ p: PortRedirection, field: String) throws -> PortRedirect {
    let (start, end): (Int, Int) =
      switch p.sourcePort {
      case .single(let n): (n, n)
      // The CLI fills the second number with the end port (spec section 6).
      case .range(let a, let b): (a, b)
      }
    guard end >= start else {
      throw XCDaemonError.invalid("\(field): source_port range \(start)-\(end) ends before it starts")
    }
    var rule = PortRedirect(
      ifaces: p.ifaces ?? config.extIfs, protocols: p.proto.map { $0.rawValue.lowercased() },
      origin: p.origin, addresses: p.addresses, sourcePortStart: start, sourcePortEnd: end,
      destPort: p.destPort)
    rule.destAddr = nil
    return rule
  }

  static func portRedirection(_ r: PortRedirect) -> PortRedirection {
    PortRedirection(
      ifaces: r.ifaces, proto: r.protocols.compactMap { NetProto(rawValue: $0.capitalized) },
      origin: r.origin, addresses: r.addresses,
      sourcePort: r.sourcePortStart == r.sourcePortEnd
        ? .single(r.sourcePortStart) : .range(r.sourcePortStart, r.sourcePortEnd),
      destPort: r.destPort, destAddr: r.destAddr)
  }
}
