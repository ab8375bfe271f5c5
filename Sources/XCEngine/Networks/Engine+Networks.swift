import Foundation
import Glibc

/// Networks on Linux: a bridge per network, leases in SQLite, VNET containers in their own
/// network namespace (runc makes it; the engine moves a veth end in by the init's pid before
/// main starts), non-VNET containers' addresses as aliases on a host interface, and port
/// redirections as nftables rules in a table of the engine's own. See docs/engine.md.
extension Engine {
  /// Serialises rewrites of the nftables table (rules are read from SQLite and applied whole)
  /// and guards `readyTables`.
  static let redirectLock = NSLock()
  /// Tables created by this process (their chains exist: only rules need rewriting).
  nonisolated(unsafe) static var readyTables = Set<String>()

  /// 8 hex of the state directory's SHA-256: names the engine's nftables table and prefixes
  /// its veths, so engines with different state directories never collide.
  var networkTag: String {
    var h = SHA256()
    h.update(Array(layout.root.utf8))
    return String(h.finalizeHex().prefix(8))
  }

  /// The nftables table holding this engine's port redirections.
  public var nftTable: String { "xcd_" + networkTag }
  var nftables: NFTables { NFTables(table: nftTable) }

  /// Host-side veth names of this engine: `xv` + 5 hex of the tag + 7 of the container id +
  /// the network's index = 15 characters, the kernel's limit.
  public var vethPrefix: String { "xv" + networkTag.prefix(5) }
  func vethName(_ id: String, _ index: Int) -> String { vethPrefix + id.prefix(7) + "\(index)" }

  // MARK: - Networks

  /// Creates a network (xc's `create_network`). A missing bridge is created (and given
  /// `default_router` as its address), and removed with the network.
  public func createNetwork(_ request: Network) throws {
    try checkOpen()
    var net = request
    guard !net.name.isEmpty, net.name.utf8.count <= 64, !net.name.contains("/"),
      net.name.allSatisfy({ !$0.isWhitespace })
    else {
      throw EngineError(.badRequest, "create_network: bad network name \"\(net.name)\"", errno: EINVAL)
    }
    if let b = net.bridge_iface { try InterfaceName.validate(b, field: "create_network: bridge_iface") }
    if let a = net.alias_iface { try InterfaceName.validate(a, field: "create_network: alias_iface") }
    var subnet: IPv4CIDR?
    if let s = net.subnet {
      let c = try IPv4CIDR(parsing: s, field: "create_network: subnet")
      subnet = c
      net.subnet = "\(c.network)/\(c.prefix)"
    }
    for (field, value) in [("start_addr", net.start_addr), ("end_addr", net.end_addr), ("default_router", net.default_router)] {
      guard let value else { continue }
      guard let a = IPv4Address(value) else {
        throw EngineError(.badRequest, "create_network: \(field) \"\(value)\" is not an IPv4 address", errno: EINVAL)
      }
      guard subnet?.contains(a) ?? false else {
        throw EngineError(
          .badRequest, "create_network: \(field) \(value) is not in the subnet \(net.subnet ?? "(none)")",
          errno: EINVAL)
      }
    }
    if let subnet {
      net.start_addr = net.start_addr ?? subnet.network.description
      net.end_addr = net.end_addr ?? subnet.broadcast.description
    }
    if let a = net.alias_iface, a != net.bridge_iface, !IPRoute().linkExists(a) {
      throw EngineError(.networkNotFound, "create_network: interface not found: \(a)", errno: ENOENT)
    }
    let ip = IPRoute()
    var create = false
    if let b = net.bridge_iface {
      if ip.linkExists(b) {
        guard FileSystem.exists("/sys/class/net/\(b)/bridge") else {
          throw EngineError(.badRequest, "create_network: \(b) exists and is not a bridge", errno: EINVAL)
        }
      } else {
        create = true
      }
    }
    net.bridge_created = create
    net.last_addr = nil
    // Saved first: a crash after the bridge is made leaves a network that owns it.
    guard try state.insertNetwork(net) else {
      throw EngineError(.networkExists, "Network with such name already exists: \(net.name)", errno: EINVAL)
    }
    if create, let b = net.bridge_iface {
      do { try makeBridge(net, b) } catch {
        try? ip.deleteLink(b)
        try? state.deleteNetwork(net.name)
        throw error
      }
    }
    logger.info("network created", metadata: ["name": "\(net.name)", "bridge": "\(net.bridge_iface ?? "-")"])
  }

  private func makeBridge(_ net: Network, _ name: String) throws {
    let ip = IPRoute()
    try ip.addBridge(name)
    if let router = net.default_router, let subnet = net.subnet.flatMap({ try? IPv4CIDR(parsing: $0, field: "subnet") }) {
      try ip.addAddress("\(router)/\(subnet.prefix)", to: name)
    }
  }

  /// Every network, ordered by name.
  public func networks() throws -> [Network] { try state.networks() }

  /// Removes a network no container holds an address of (xcd's `xcsh.remove_network`); its
  /// bridge goes too if the engine created it.
  public func removeNetwork(_ name: String) throws {
    try checkOpen()
    guard let net = try state.network(name) else {
      throw EngineError(.networkNotFound, "no such network: \(name)", errno: ENOENT)
    }
    let holders = try state.leaseHolders(network: name)
    if !holders.isEmpty {
      let names = holders.map { id in (try? container(id).record.name).map { "\(id) (\($0))" } ?? id }
      throw EngineError(
        .networkInUse, "network \(name) is in use by containers: \(names.joined(separator: ", "))",
        help: "kill those containers first", errno: EBUSY)
    }
    if net.bridge_created, let b = net.bridge_iface, IPRoute().linkExists(b) {
      try IPRoute().deleteLink(b)
    }
    try state.deleteNetwork(name)
    logger.info("network removed", metadata: ["name": "\(name)"])
  }

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

  private func validated(_ r: PortRedirect, to main: String, container: String) throws -> PortRedirect {
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
  private func bridgeOf(_ record: ContainerRecord) -> String? {
    guard record.vnet == true, let net = record.ip_alloc?.first(where: { $0.network != nil })?.network
    else { return nil }
    return (try? state.network(net))?.bridge_iface
  }

  private func installRedirects(_ rules: [PortRedirect], container: String, vnetBridge: String?) throws {
    Self.redirectLock.lock()
    defer { Self.redirectLock.unlock() }
    if let vnetBridge { try IPRoute().setInterfaceSysctl(vnetBridge, "route_localnet", "1") }
    if rules.contains(where: { !($0.ifaces ?? []).isEmpty }) {
      // Traffic arriving on an external interface is forwarded to the bridge.
      try IPRoute.writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
    }
    for rule in rules { try state.addRedirect(rule, container: container) }
    do { try applyRedirects() } catch {
      try? state.releaseNetworking(container: container)
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
  private func applyRedirects() throws {
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

  // MARK: - Containers

  /// What `prepareNetwork` decided for a container: its leased and static addresses and how
  /// they are put in place once its init exists.
  struct NetworkPlan {
    var vnet: Bool
    var assignments: [IPAssignment] = []
    var mainAddress: String?
    /// Host-side steps (`ip` batch lines) and steps inside the container's namespace.
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
  func prepareNetwork(_ spec: ContainerNetworkSpec, id: String) throws -> NetworkPlan? {
    guard !spec.isEmpty else { return nil }
    do { return try plan(spec, id: id) } catch {
      try? state.releaseNetworking(container: id)
      throw error
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
      let wanted = try explicit.map { try IPv4CIDR(parsing: $0, field: "ipreq[\(index)].ip") }
      let leased = try state.lease(network: name, container: id) { net, used in
        if let wanted {
          let a = wanted.address
          if let s = net.subnet.flatMap({ try? IPv4CIDR(parsing: $0, field: "subnet") }), !s.contains(a) {
            throw EngineError(.badRequest, "\(a) is not in the subnet of \(name) (\(s))", errno: EINVAL)
          }
          if used.contains(a.description) || net.default_router == a.description {
            throw EngineError(.noAddress, "address \(a) already consumed in network \(name)", errno: EADDRINUSE)
          }
          return a.description
        }
        return try Self.pickAddress(net, used: used)
      }
      guard let (net, address) = leased else {
        throw EngineError(.networkNotFound, "no such network: \(name)", help: "create it with create_network", errno: ENOENT)
      }
      guard !address.isEmpty else {
        throw EngineError(
          .noAddress, "cannot allocate address from network \(name): every address is leased",
          errno: EADDRNOTAVAIL)
      }
      let prefix = net.subnet.flatMap { try? IPv4CIDR(parsing: $0, field: "subnet") }?.prefix ?? wanted?.prefix ?? 32
      let cidr = "\(address)/\(prefix)"
      byNetwork[name] = byNetwork[name] ?? address
      if spec.vnet {
        guard let bridge = net.bridge_iface else {
          throw EngineError(.badRequest, "network \(name) has no bridge_iface, which VNET containers need", errno: EINVAL)
        }
        let peer = "eth\(plan.veths.count)"
        let host = vethName(id, plan.veths.count)
        if IPRoute().linkExists(host) {
          throw EngineError(.network, "interface \(host) already exists", errno: EEXIST)
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
          throw EngineError(.badRequest, "network \(name) has no alias_iface, which non-VNET containers need", errno: EINVAL)
        }
        plan.hostAliases.append(("\(address)/32", dev))
        plan.assignments.append(IPAssignment(network: name, addresses: [cidr], interface: dev))
      }
    }
    for (index, s) in spec.statics.enumerated() {
      let field = "ips[\(index)]"
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
            throw EngineError(.networkNotFound, "\(field): missing network interface \(dev)", errno: ENOENT)
          }
          plan.moveIn.append(dev)
          plan.insideMoved.append("link set \(dev) up")
          plan.insideMoved += cidrs.map { "addr add \($0) dev \(dev)" }
        } else {
          plan.inside += cidrs.map { "addr add \($0) dev \(dev)" }
        }
      } else {
        guard IPRoute().linkExists(s.interface) else {
          throw EngineError(.networkNotFound, "\(field): missing network interface \(s.interface)", errno: ENOENT)
        }
        for c in cidrs where IPRoute().hasAddress(String(c.split(separator: "/")[0]), on: s.interface) {
          throw EngineError(.noAddress, "\(field): \(c) is already on \(s.interface)", errno: EADDRINUSE)
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
        throw EngineError(.badRequest, "main_ip_selector: the container has no address from network \(n)", errno: EINVAL)
      }
      plan.mainAddress = a
    } else if let a = spec.mainAddress {
      guard all.contains(a) else {
        throw EngineError(.badRequest, "main_ip_selector: \(a) is not one of the container's addresses", errno: EINVAL)
      }
      plan.mainAddress = a
    } else {
      plan.mainAddress = plan.assignments.first(where: { $0.network != nil }).map { String($0.addresses[0].split(separator: "/")[0]) }
        ?? all.first(where: { !$0.hasPrefix("127.") })
    }
    for g in spec.netgroups where byNetwork[g] == nil {
      throw EngineError(.badRequest, "netgroups: \(g) must also be a network of ipreq", errno: EINVAL)
    }
    if !spec.redirects.isEmpty {
      guard let main = plan.mainAddress else {
        throw EngineError(
          .noAddress, "port_redirections need a main address: give the container a network (ipreq) or ips",
          errno: EINVAL)
      }
      plan.redirects = try spec.redirects.map { try validated($0, to: main, container: id) }
    }
    return plan
  }

  /// xc's allocation: the address after the last one leased, wrapping around within
  /// start..end, skipping the subnet's network and broadcast addresses, the default router
  /// and leased addresses.
  static func pickAddress(_ net: Network, used: Set<String>) throws -> String? {
    guard let subnetText = net.subnet else {
      throw EngineError(
        .badRequest, "network \(net.name) has no subnet: ask for an explicit address", errno: EINVAL)
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
  func startNetwork(_ plan: NetworkPlan, container: LiveContainer) -> NetworkSetup {
    let netns = Self.netnsPath(container.bundle)
    let interfaces = BackgroundWork(signalling: plan.vnet) { [self] ready in
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
    let rules = plan.redirects.isEmpty ? nil : BackgroundWork(signalling: false) { [self] _ in
      try installRedirects(plan.redirects, container: container.id, vnetBridge: plan.vnet ? plan.bridge : nil)
    }
    return NetworkSetup(interfaces: interfaces, rules: rules)
  }

  /// Once init (`pid`) exists and before main starts: waits for the set-up, moves host
  /// interfaces named in `ips` in (xc's VNET semantics), and commits network groups.
  func finishNetwork(_ plan: NetworkPlan, _ setup: NetworkSetup, container: LiveContainer, pid: pid_t) throws {
    if let error = setup.wait() { throw error }
    if !plan.moveIn.isEmpty {
      let ip = IPRoute()
      try ip.batch(plan.moveIn.map { "link set \($0) netns \(pid)" }, what: "move interfaces into container \(container.id)")
      try ip.batch(plan.insideMoved, inNetns: Self.netnsPath(container.bundle),
                   what: "configure the moved interfaces of container \(container.id)")
    }
    for g in plan.netgroups {
      try state.joinNetgroup(g, container: container.id)
      try commitNetgroup(g)
    }
  }

  /// Puts the planned addresses in the container's record as soon as they are leased, so
  /// whatever ends the container releases them.
  func recordNetwork(_ plan: NetworkPlan, in container: LiveContainer) {
    container.update {
      $0.vnet = plan.vnet
      $0.ip_alloc = plan.assignments
      $0.main_address = plan.mainAddress
    }
  }

  /// Undoes what `attachNetwork` did (whatever part of it ran) and releases the leases.
  func releaseNetwork(_ record: ContainerRecord) {
    // A container without networking holds nothing (its leases would be in its record).
    guard record.ip_alloc != nil || record.vnet == true else { return }
    let ip = IPRoute()
    if record.vnet != true {
      for a in record.ip_alloc ?? [] {
        for cidr in a.addresses {
          let address = String(cidr.split(separator: "/")[0])
          let alias = a.network == nil ? cidr : "\(address)/32"
          if ip.hasAddress(address, on: a.interface) { try? ip.deleteAddress(alias, from: a.interface) }
        }
      }
    }
    // A veth goes with its namespace, but the kernel does that lazily: delete it now.
    for link in ip.links(prefix: vethPrefix + record.id.prefix(7)) { try? ip.deleteLink(link) }
    do {
      if try state.releaseNetworking(container: record.id) { try refreshRedirects() }
    } catch {
      logger.error("cannot release the container's addresses", metadata: ["id": "\(record.id)", "error": "\(error)"])
    }
  }

  /// On start: addresses of containers of an earlier run are removed from host interfaces,
  /// this engine's veths deleted, every lease, redirection and group membership released,
  /// the nftables table emptied, and bridges of networks re-created if missing.
  func reconcileNetworks(records: [ContainerRecord]) {
    for record in records where record.ip_alloc != nil { releaseNetwork(record) }
    let ip = IPRoute()
    for link in ip.links(prefix: vethPrefix) { try? ip.deleteLink(link) }
    do {
      try state.releaseNetworking(except: [])
      removeRedirectTable()
      for net in try state.networks() where net.bridge_created {
        if let b = net.bridge_iface, !ip.linkExists(b) { try makeBridge(net, b) }
      }
    } catch {
      logger.error("cannot reconcile networks", metadata: ["error": "\(error)"])
    }
  }

  // MARK: - Network groups

  /// Adds a container to group `name` (xc's `add-netgroup`).
  public func addToNetgroup(_ name: String, container: String, autoCreate: Bool, commit: Bool) throws {
    let c = try find(container)
    if !autoCreate, try state.netgroupMembers(name).isEmpty {
      throw EngineError(.networkNotFound, "netgroup not found: \(name)", errno: ENOENT)
    }
    try state.joinNetgroup(name, container: c.id)
    if commit { try commitNetgroup(name) }
  }

  /// Rewrites `/etc/hosts` of every member of group `name` (xc's `commit_netgroup`):
  /// localhost, then `<address> <name>` for each member with an address on that network.
  public func commitNetgroup(_ name: String) throws {
    let members = try state.netgroupMembers(name).compactMap { try? find($0) }
    if members.isEmpty { throw EngineError(.networkNotFound, "netgroup not found: \(name)", errno: ENOENT) }
    var hosts = "::1 localhost\n127.0.0.1 localhost\n"
    for m in members {
      guard let a = m.record.ip_alloc?.first(where: { $0.network == name })?.addresses.first else { continue }
      hosts += "\(a.split(separator: "/")[0]) \(m.record.name)\n"
    }
    for m in members {
      let path = try RootfsAccess(root: m.record.root).hostPath("/etc/hosts", createParents: true)
      let fd = try sysCall("write /etc/hosts of \(m.id)") {
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
      }
      defer { closeQuietly(fd) }
      try writeAll(fd, Array(hosts.utf8))
    }
  }

  // MARK: - DNS

  static func isIPv6(_ text: String) -> Bool {
    var addr = in6_addr()
    return inet_pton(AF_INET6, text, &addr) == 1
  }

  /// The container's resolv.conf as its DNS setting says: the host's (read-only), none
  /// (the image's stays), or one written for it in the bundle.
  func dnsMounts(_ dns: ContainerNetworkSpec.DNS, bundle: String) throws -> [RuntimeSpec.Mount] {
    switch dns {
    case .inherit: return Self.resolvConfMount()
    case .nop: return []
    case .specified(let servers, let domains):
      for s in servers where IPv4Address(s) == nil && !Self.isIPv6(s) {
        throw EngineError(.badRequest, "dns: \"\(s)\" is not an IP address", errno: EINVAL)
      }
      for d in domains where d.contains(where: { $0.isWhitespace }) || d.isEmpty {
        throw EngineError(.badRequest, "dns: bad search domain \"\(d)\"", errno: EINVAL)
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
}

/// Runs a closure on its own thread; `wait()` blocks until it is done and returns its error.
/// The closure may call `ready()` early, for whoever waits with `waitReady()`.
final class BackgroundWork: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let readied = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var failure: (any Error)?
  private var error: (any Error)? {
    get { lock.withLock { failure } }
    set { lock.withLock { failure = newValue } }
  }

  /// `signalling`: the closure calls `ready()` itself (else it counts as ready at once).
  init(signalling: Bool, _ body: @escaping @Sendable (_ ready: () -> Void) throws -> Void) {
    if !signalling { readied.signal() }
    Thread.detachNewThread { [self] in
      var signalled = !signalling
      do {
        try body {
          signalled = true
          readied.signal()
        }
      } catch { self.error = error }
      if !signalled { readied.signal() }
      done.signal()
    }
  }

  /// Returns once `ready()` was called or the closure ended; its error if it ended failing.
  func waitReady() -> (any Error)? {
    readied.wait()
    readied.signal()
    return error
  }

  /// The closure's error, if it threw; may be called more than once.
  func wait() -> (any Error)? {
    done.wait()
    done.signal()
    return error
  }
}

/// A container's networking being set up (see `Engine.startNetwork`).
final class NetworkSetup: Sendable {
  let interfaces: BackgroundWork
  let rules: BackgroundWork?

  init(interfaces: BackgroundWork, rules: BackgroundWork?) {
    self.interfaces = interfaces
    self.rules = rules
  }

  /// Once the namespace exists (runc can join it); an error if making it failed.
  func waitNamespace() -> (any Error)? { interfaces.waitReady() }

  /// Once everything is done; the first error.
  func wait() -> (any Error)? {
    let a = interfaces.wait()
    let b = rules?.wait()
    return a ?? b
  }
}
