import Foundation
import Glibc

/// A container's networking: leases and plan before it is created, set-up while it is
/// created, release when it ends, clean-up on start.
extension Networking {
  // MARK: - Containers

  /// What `prepareNetwork` decided for a container: its leased and static addresses and how
  /// they are put in place once its init exists.
  struct NetworkPlan {
    var vnet: Bool
    var assignments: [IPAssignment] = []
    var mainAddress: String?
    /// Aliases on host interfaces (non-VNET), veth pairs and `ip` lines run inside the
    /// namespace (VNET).
    var hostAliases: [(cidr: String, dev: String)] = []
    var veths: [(host: String, peer: String, bridge: String)] = []
    /// Host interfaces moved into the namespace (by init's pid) and their configuration.
    var moveIn: [String] = []
    var insideMoved: [String] = []
    var inside: [String] = []
    var redirects: [PortRedirect]
    var netgroups: [String]
    var bridge: String?
  }

  /// Leases the container's addresses and plans its interfaces; nothing on the host changes
  /// yet. A failure leaves no lease.
  func prepare(_ spec: ContainerNetworkSpec, id: String) throws -> NetworkPlan? {
    guard !spec.isEmpty else { return nil }
    do { return try plan(spec, id: id) } catch {
      releaseLeases(of: id)
      throw error
    }
  }

  /// Drops the container's leases, redirections and group memberships after a failed
  /// set-up; a failure is logged (the next start's reconciliation drops them anyway).
  func releaseLeases(of id: String) {
    do { _ = try state.releaseNetworking(container: id) } catch {
      logger.error("cannot release the container's addresses", metadata: ["id": "\(id)", "error": "\(error)"])
    }
  }

  private func plan(_ spec: ContainerNetworkSpec, id: String) throws -> NetworkPlan {
    var plan = NetworkPlan(vnet: spec.vnet, redirects: [], netgroups: spec.netgroups)
    var firstRouter: String?
    var byNetwork: [String: String] = [:]
    for (index, request) in spec.requests.enumerated() {
      let (name, explicit): (String, String?) =
        switch request {
        case .any(let n): (n, nil)
        case .explicit(let n, let a): (n, a)
        }
      let wanted = try explicit.map { try IPv4CIDR(parsing: $0, field: "ipreq[\(index)].ip (xcsh: --network NAME|ADDR)") }
      let leased = try state.lease(network: name, container: id) { net, used in
        if let wanted {
          let a = wanted.address
          if let s = net.subnet.flatMap({ try? IPv4CIDR(parsing: $0, field: "subnet") }), !s.contains(a) {
            throw EngineError(.badRequest, "\(a) is not in the subnet of \(name) (\(s))", errno: .invalidArgument)
          }
          if used.contains(a.description) || net.default_router == a.description {
            throw EngineError(.noAddress, "address \(a) already consumed in network \(name)", errno: .addressInUse)
          }
          return a.description
        }
        return try Self.pickAddress(net, used: used)
      }
      guard let (net, address) = leased else {
        throw EngineError(.networkNotFound, "no such network: \(name)", help: "create it with create_network", errno: .noSuchFileOrDirectory)
      }
      guard !address.isEmpty else {
        throw EngineError(
          .noAddress, "cannot allocate address from network \(name): every address is leased",
          errno: .addressNotAvailable)
      }
      let prefix = net.subnet.flatMap { try? IPv4CIDR(parsing: $0, field: "subnet") }?.prefix ?? wanted?.prefix ?? 32
      let cidr = "\(address)/\(prefix)"
      byNetwork[name] = byNetwork[name] ?? address
      if spec.vnet {
        guard let bridge = net.bridge_iface else {
          throw EngineError(
            .badRequest,
            "network \(name) has no bridge_iface (xcsh: network create --bridge), which VNET containers (--vnet) need",
            help: "create the network with a subnet and no --bridge or --alias, and xcd makes its bridge", errno: .invalidArgument)
        }
        try ensureBridge(net)
        let peer = "eth\(plan.veths.count)"
        let host = vethName(id, plan.veths.count)
        if IPRoute().linkExists(host) {
          throw EngineError(.network, "interface \(host) already exists", errno: .fileExists)
        }
        plan.veths.append((host, peer, bridge))
        plan.bridge = plan.bridge ?? bridge
        plan.inside += [
          "link add \(peer) type veth peer name \(host) netns \(getpid())",
          "addr add \(cidr) dev \(peer)", "link set \(peer) up",
        ]
        if firstRouter == nil, let r = net.default_router { firstRouter = r }
        plan.assignments.append(IPAssignment(network: name, addresses: [cidr], interface: peer))
      } else {
        guard let dev = net.alias_iface ?? net.bridge_iface else {
          throw EngineError(
            .badRequest,
            "network \(name) has no alias_iface (xcsh: network create --alias), which non-VNET containers need",
            errno: .invalidArgument)
        }
        if net.alias_iface == nil { try ensureBridge(net) }
        plan.hostAliases.append(("\(address)/32", dev))
        plan.assignments.append(IPAssignment(network: name, addresses: [cidr], interface: dev))
      }
    }
    for (index, s) in spec.statics.enumerated() {
      let field = "ips[\(index)] (xcsh: --ip)"
      let isLoopback = s.interface == "lo0" || s.interface == "lo"
      if !isLoopback { try InterfaceName.validate(s.interface, field: "\(field).interface") }
      var cidrs: [String] = []
      for a in s.addresses {
        if isLoopback && (a == "::1/128" || a == "::1" || a == "127.0.0.1/8") { continue }
        if isLoopback && a.contains(":") { continue }  // IPv6 loopback comes with `lo`
        cidrs.append(try IPv4CIDR(parsing: a, field: "\(field).addresses").description)
      }
      if spec.vnet {
        let dev = isLoopback ? "lo" : s.interface
        if !isLoopback && !plan.veths.contains(where: { $0.peer == dev }) {
          // xc moves a host interface named in `ips` into the VNET container.
          guard IPRoute().linkExists(dev) else {
            throw EngineError(.networkNotFound, "\(field): missing network interface \(dev)", errno: .noSuchFileOrDirectory)
          }
          plan.moveIn.append(dev)
          plan.insideMoved.append("link set \(dev) up")
          plan.insideMoved += cidrs.map { "addr add \($0) dev \(dev)" }
        } else {
          plan.inside += cidrs.map { "addr add \($0) dev \(dev)" }
        }
      } else {
        guard IPRoute().linkExists(s.interface) else {
          throw EngineError(.networkNotFound, "\(field): missing network interface \(s.interface)", errno: .noSuchFileOrDirectory)
        }
        for c in cidrs where IPRoute().hasAddress(String(c.split(separator: "/")[0]), on: s.interface) {
          throw EngineError(.noAddress, "\(field): \(c) is already on \(s.interface)", errno: .addressInUse)
        }
        plan.hostAliases += cidrs.map { ($0, s.interface) }
      }
      if !cidrs.isEmpty { plan.assignments.append(IPAssignment(network: nil, addresses: cidrs, interface: s.interface)) }
    }
    if spec.vnet, let r = firstRouter { plan.inside.append("route add default via \(r)") }

    // The main address: as selected, else the first managed one, else the first static one.
    let all = plan.assignments.flatMap { $0.addresses.map { String($0.split(separator: "/")[0]) } }
    if let n = spec.mainNetwork {
      guard let a = byNetwork[n] else {
        throw EngineError(.badRequest, "main_ip_selector (xcsh: --main-address): the container has no address from network \(n)", errno: .invalidArgument)
      }
      plan.mainAddress = a
    } else if let a = spec.mainAddress {
      guard all.contains(a) else {
        throw EngineError(.badRequest, "main_ip_selector (xcsh: --main-address): \(a) is not one of the container's addresses", errno: .invalidArgument)
      }
      plan.mainAddress = a
    } else {
      plan.mainAddress = plan.assignments.first(where: { $0.network != nil }).map { String($0.addresses[0].split(separator: "/")[0]) }
        ?? all.first(where: { !$0.hasPrefix("127.") })
    }
    for g in spec.netgroups where byNetwork[g] == nil {
      throw EngineError(.badRequest, "netgroups (xcsh: --net-group): \(g) must also be a network of ipreq (xcsh: --network)", errno: .invalidArgument)
    }
    if !spec.redirects.isEmpty {
      guard let main = plan.mainAddress else {
        throw EngineError(
          .noAddress, "port_redirections (xcsh: -p) need a main address: give the container a network (ipreq; xcsh: --network) or ips (xcsh: --ip)",
          errno: .invalidArgument)
      }
      plan.redirects = try spec.redirects.map { try Redirects.validated($0, to: main, container: id) }
    }
    return plan
  }

  /// xc's allocation: the address after the last one leased, wrapping around within
  /// start..end, skipping the subnet's network and broadcast addresses, the default router
  /// and leased addresses.
  static func pickAddress(_ net: Network, used: Set<String>) throws -> String? {
    guard let subnetText = net.subnet else {
      throw EngineError(
        .badRequest, "network \(net.name) has no subnet: ask for an explicit address", errno: .invalidArgument)
    }
    let subnet = try IPv4CIDR(parsing: subnetText, field: "subnet")
    let start = net.start_addr.flatMap(IPv4Address.init) ?? subnet.network
    let end = net.end_addr.flatMap(IPv4Address.init) ?? subnet.broadcast
    guard start <= end else { return nil }
    let count = UInt64(end.value - start.value) + 1
    var offset: UInt64 = 0
    if let last = net.last_addr.flatMap(IPv4Address.init), last >= start, last <= end {
      offset = (UInt64(last.value - start.value) + 1) % count
    }
    for _ in 0..<count {
      let a = IPv4Address(start.value + UInt32(offset))
      offset = (offset + 1) % count
      if subnet.prefix < 31 && (a == subnet.network || a == subnet.broadcast) { continue }
      if a.description == net.default_router || used.contains(a.description) { continue }
      return a.description
    }
    return nil
  }

  /// Where a VNET container's network namespace is kept (a bind mount in its bundle, so
  /// unmounting the bundle's mounts — on release, or on start after a crash — ends it).
  static func netnsPath(_ bundle: String) -> String { bundle + "/netns" }

  /// Starts setting up the container's networking on two threads while the container is
  /// created: the namespace (VNET: made first, runc joins it), its veths (made from inside
  /// it, the host end sent to our namespace and joined to the bridge), addresses and route,
  /// or the host aliases (non-VNET); and the nftables rules.
  func start(_ plan: NetworkPlan, container: LiveContainer) -> NetworkSetup {
    let netns = Self.netnsPath(container.bundle)
    let interfaces = BackgroundWork(signalling: plan.vnet) { ready in
      let ip = IPRoute()
      if plan.vnet {
        try ip.makeNamespace(at: netns)
        ready()
        try ip.batch(["link set lo up"] + plan.inside.prefix { !$0.hasPrefix("route ") }, inNetns: netns,
                     what: "configure the network of container \(container.id)")
        try ip.batch(plan.veths.map { "link set \($0.host) master \($0.bridge) up" },
                     what: "connect container \(container.id) to its networks")
        try ip.batch(plan.inside.filter { $0.hasPrefix("route ") }, inNetns: netns,
                     what: "set the default route of container \(container.id)")
      } else {
        for alias in plan.hostAliases { try ip.addAddress(alias.cidr, to: alias.dev) }
      }
    }
    let rules = plan.redirects.isEmpty ? nil : BackgroundWork(signalling: false) { [redirects] _ in
      try redirects.install(plan.redirects, container: container.id, vnetBridge: plan.vnet ? plan.bridge : nil)
    }
    return NetworkSetup(interfaces: interfaces, rules: rules)
  }

  /// Once init (`pid`) exists and before main starts: waits for the set-up and moves host
  /// interfaces named in `ips` in (xc's VNET semantics).
  func finish(_ plan: NetworkPlan, _ setup: NetworkSetup, container: LiveContainer, pid: pid_t) throws {
    if let error = setup.wait() { throw error }
    if !plan.moveIn.isEmpty {
      let ip = IPRoute()
      try ip.batch(plan.moveIn.map { "link set \($0) netns \(pid)" }, what: "move interfaces into container \(container.id)")
      try ip.batch(plan.insideMoved, inNetns: Self.netnsPath(container.bundle),
                   what: "configure the moved interfaces of container \(container.id)")
    }
  }

  /// Puts the planned addresses in the container's record as soon as they are leased, so
  /// whatever ends the container releases them.
  func record(_ plan: NetworkPlan, in container: LiveContainer) {
    container.update {
      $0.vnet = plan.vnet
      $0.ip_alloc = plan.assignments
      $0.main_address = plan.mainAddress
    }
  }

  /// What xc's supervisor adds to the environment of main and of exec'd processes:
  /// `XC_MAIN_IP`, `XC_MAIN_IFACE`, `XC_NETWORKS_COUNT` and per network
  /// `XC_NETWORK_<net>_IFACE`, `_ADDR_COUNT`, `_ADDR_<i>`.
  static func networkEnvironment(_ record: ContainerRecord) -> [String: String] {
    guard let alloc = record.ip_alloc else { return [:] }
    var env: [String: String] = [:]
    if let main = record.main_address {
      env["XC_MAIN_IP"] = main
      env["XC_MAIN_IFACE"] = alloc.first { $0.addresses.contains { $0.hasPrefix(main + "/") } }?.interface
    }
    let managed = alloc.filter { $0.network != nil }
    env["XC_NETWORKS_COUNT"] = "\(Set(managed.compactMap(\.network)).count)"
    for a in managed {
      let key = "XC_NETWORK_\(a.network!)"
      env[key + "_IFACE"] = a.interface
      env[key + "_ADDR_COUNT"] = "\(a.addresses.count)"
      for (i, address) in a.addresses.enumerated() {
        env[key + "_ADDR_\(i)"] = String(address.split(separator: "/")[0])
      }
    }
    return env
  }

  /// Undoes what `startNetwork` and `finishNetwork` did (whatever part of it ran) and
  /// releases the leases. Everything is attempted; the first failure is thrown.
  func release(_ record: ContainerRecord) throws {
    // A container without networking holds nothing (its leases would be in its record).
    guard record.ip_alloc != nil || record.vnet == true else { return }
    var first: (any Error)?
    func attempt(_ body: () throws -> Void) {
      do { try body() } catch { first = first ?? error }
    }
    let ip = IPRoute()
    if record.vnet != true {
      for a in record.ip_alloc ?? [] {
        for cidr in a.addresses {
          let address = String(cidr.split(separator: "/")[0])
          let alias = a.network == nil ? cidr : "\(address)/32"
          if ip.hasAddress(address, on: a.interface) { attempt { try ip.deleteAddress(alias, from: a.interface) } }
        }
      }
    }
    // A veth goes with its namespace, but the kernel does that lazily: delete it now.
    for link in ip.links(prefix: vethPrefix + record.id.prefix(7)) {
      attempt { try Self.deleteVeth(link, ip) }
    }
    attempt { if try state.releaseNetworking(container: record.id) { try redirects.refresh() } }
    if let first { throw first }
  }

  /// Deletes a veth; one the kernel removed meanwhile (with its namespace) is no failure.
  static func deleteVeth(_ link: String, _ ip: IPRoute) throws {
    do { try ip.deleteLink(link) } catch {
      if ip.linkExists(link) { throw error }
    }
  }

  /// On start, after the containers of an earlier run were torn down: this engine's veths
  /// deleted, every lease, redirection and group membership released, the nftables table
  /// emptied, and bridges of networks re-created if missing.
  func reconcile() {
    let ip = IPRoute()
    for link in ip.links(prefix: vethPrefix) {
      do { try Self.deleteVeth(link, ip) } catch {
        logger.error("cannot delete a leftover veth", metadata: ["link": "\(link)", "error": "\(error)"])
      }
    }
    do {
      try state.releaseNetworking(except: [])
      redirects.removeTable()
      // The default network's bridge is made on first use, not here.
      for net in try state.networks() where net.bridge_created && net.name != defaultNetwork?.name {
        guard let b = net.bridge_iface else { continue }
        // A crash inside create_network can leave the bridge made but not up or without its
        // address: no container uses it now, so it is made again whole.
        if ip.linkExists(b), !bridgeIsWhole(net, b) {
          logger.warning("remaking a half-made bridge", metadata: ["network": "\(net.name)", "bridge": "\(b)"])
          try ip.deleteLink(b)
        }
        if !ip.linkExists(b) { try makeBridge(net, b) }
      }
    } catch {
      logger.error("cannot reconcile networks", metadata: ["error": "\(error)"])
    }
  }

  /// True if bridge `name` of `net` is a bridge, up, and holds the network's router address.
  func bridgeIsWhole(_ net: Network, _ name: String) -> Bool {
    guard FileSystem.exists("/sys/class/net/\(name)/bridge") else { return false }
    let flags = (try? String(contentsOfFile: "/sys/class/net/\(name)/flags", encoding: .utf8)) ?? ""
    guard let value = Int(flags.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16),
      value & 0x1 != 0  // IFF_UP
    else { return false }
    if let router = net.default_router, net.subnet != nil { return IPRoute().hasAddress(router, on: name) }
    return true
  }
}

extension Networking {
  /// The bridge of a VNET container's first managed network (where route_localnet must be on
  /// for connections from 127.0.0.1 to reach it).
  func bridgeOf(_ record: ContainerRecord) -> String? {
    guard record.vnet == true, let net = record.ip_alloc?.first(where: { $0.network != nil })?.network
    else { return nil }
    return (try? state.network(net))?.bridge_iface
  }
}
