import Foundation
import XCIPC

/// What `stack up` makes from a Compose file, named and ordered, before anything is sent:
/// pure, so the names, the start order and every refusal are unit-tested without a daemon.
///
/// Names (docs/stacks.md): the project `P` owns the network `P` (the `default` network), the
/// networks and volumes `P-KEY` and the containers `P-SERVICE-N` (N = 1 … replicas). A project name has no `-`,
/// so `P-…` can never belong to another project. Containers also carry the environment
/// variables `XCSH_STACK`, `XCSH_STACK_SERVICE` and `XCSH_STACK_HASH` (the service's
/// settings, so that a second `up` replaces exactly the services that changed).
struct StackPlan: Sendable {
  struct Network: Sendable, Equatable {
    var name: String
    var subnet: String?
    var external: Bool
    var at: ComposePosition
  }
  struct Volume: Sendable, Equatable {
    var name: String
    var external: Bool
    var at: ComposePosition
  }
  struct Service: Sendable {
    var name: String
    var container: String
    var image: String
    /// The program and its arguments (`entrypoint` then `command`); empty: the image's.
    var argv: [String]
    var environment: [String: String]
    var ports: [Located<String>]
    /// `-v` items with volume keys replaced by volume names and host paths made absolute.
    var binds: [Located<String>]
    /// The `volumes:` items whose host path was relative (to the project directory), as
    /// written: they name nothing on a remote host.
    var relativeBinds: [Located<String>] = []
    var networks: [String]
    var hostname: String
    var user: String?
    var dns: [String]
    var at: ComposePosition
    /// `restart:` and `healthcheck:`, as `run --restart` and `--health-cmd` send them.
    var restart: RestartPolicySpec? = nil
    var health: HealthCheckSpec? = nil
    /// `build:`: `image` is built (name and tag split) before the services start.
    var build: Build? = nil
  }
  /// An image a service builds with xcsh's `build` (docs/jailfile.md).
  struct Build: Sendable, Equatable {
    /// Absolute.
    var context: String
    /// Relative to `context`; nil: `Jailfile` when there is one, else `Dockerfile`.
    var dockerfile: String?
    var args: [String: String]
    /// The image reference split as `build --name NAME --tag TAG` takes it.
    var name: String
    var tag: String
    var at: ComposePosition
  }

  /// The label (environment variable) holding a built image's digest, part of the settings
  /// hash: a rebuilt image replaces the service's containers.
  static let imageLabel = "XCSH_STACK_IMAGE"

  var project: String
  var networks: [Network]
  var volumes: [Volume]
  /// In start order: each after the services it depends on; a service of N replicas is N
  /// entries (`<project>-<service>-1…N`), one after the other.
  var services: [Service]
  /// Every service the file declares, also those scaled to 0 replicas: a second `up` removes
  /// the project's containers of these services beyond their replica count.
  var serviceNames: Set<String> = []

  /// The environment variables that label a stack's containers.
  static let projectLabel = "XCSH_STACK"
  static let serviceLabel = "XCSH_STACK_SERVICE"
  static let hashLabel = "XCSH_STACK_HASH"

  /// xcd's limit on network names.
  static let maxNetworkName = 15

  /// Whether `name` can name a project: lowercase letters, digits and `_`, starting with a
  /// letter or digit, at most 15 characters (the default network is named after it).
  static func isProjectName(_ name: String) -> Bool {
    guard let first = name.first, first != "_", name.count <= maxNetworkName else { return false }
    return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
  }

  /// A project name from a directory's name, as Compose does (lowercased), with what a
  /// project name cannot hold turned into `_`; nil when nothing usable is left.
  static func projectName(fromDirectory dir: String) -> String? {
    let base = dir.split(separator: "/").last.map(String.init) ?? ""
    var name = String(base.lowercased().map { c in c.isASCII && (c.isLetter || c.isNumber) ? c : "_" })
    while name.hasPrefix("_") { name.removeFirst() }
    return isProjectName(name) ? name : nil
  }

  /// The names of the objects a project's stack makes when its file is not at hand: the
  /// network `P` and anything named `P-…`.
  static func owns(_ project: String, _ name: String) -> Bool {
    name == project || name.hasPrefix(project + "-")
  }

  /// Plans `file` as project `project`. `projectDir` resolves relative host paths;
  /// `existingSubnets` are the daemon's networks' subnets by name (a network of the stack that
  /// exists keeps its subnet; a new one without `ipam` gets a free /24).
  static func make(
    _ file: ComposeFile, project: String, projectDir: String, existingSubnets: [String: String]
  ) throws(ComposeError) -> StackPlan {
    var plan = StackPlan(project: project, networks: [], volumes: [], services: [])
    let top = file.services.first?.at ?? ComposePosition(file: "", line: 1, column: 1)
    guard isProjectName(project) else {
      throw ComposeError(
        kind: .invalid, at: top,
        message: "project name `\(project)`: use 1-15 lowercase letters, digits and `_` (`-p NAME`)")
    }

    // Networks: the declared ones, plus `default` when a service joins no named network.
    var networkNames: [String: String] = [:]
    var declared = file.networks
    if file.services.contains(where: { $0.networks == nil }), !declared.contains(where: { $0.key == "default" }) {
      declared.insert(ComposeNetwork(key: "default", at: top), at: 0)
    }
    var taken = Set(existingSubnets.values)
    for n in declared {
      let name = n.externalName ?? (n.key == "default" ? project : "\(project)-\(n.key)")
      guard name.count <= maxNetworkName, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
        throw ComposeError(
          kind: .invalid, at: n.at,
          message: "network `\(n.key)` would be named `\(name)`: xcd's network names are at most 15 letters, digits, `-` and `_` (shorten the project name with `-p` or the key)")
      }
      var subnet = n.subnet
      if n.externalName == nil, subnet == nil {
        subnet = existingSubnets[name] ?? freeSubnet(for: name, taken: taken)
        if let subnet { taken.insert(subnet) }
      }
      networkNames[n.key] = name
      plan.networks.append(Network(name: name, subnet: n.externalName == nil ? subnet : nil, external: n.externalName != nil, at: n.at))
    }

    var volumeNames: [String: String] = [:]
    for v in file.volumes {
      let name = v.externalName ?? "\(project)-\(v.key)"
      volumeNames[v.key] = name
      plan.volumes.append(Volume(name: name, external: v.externalName != nil, at: v.at))
    }

    var services: [String: [Service]] = [:]
    for s in file.services {
      services[s.name] = try service(s, project: project, projectDir: projectDir, networks: networkNames, volumes: volumeNames)
    }
    plan.serviceNames = Set(file.services.map(\.name))
    for s in file.services {
      for d in s.dependsOn where services[d.value] == nil {
        throw ComposeError(kind: .invalid, at: d.at, message: "`depends_on`: no service `\(d.value)` in this file")
      }
    }
    plan.services = try order(file.services).flatMap { services[$0]! }
    return plan
  }

  private static func service(
    _ s: ComposeService, project: String, projectDir: String, networks: [String: String], volumes: [String: String]
  ) throws(ComposeError) -> [Service] {
    guard !s.name.isEmpty, s.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
      throw ComposeError(kind: .invalid, at: s.at, message: "service name `\(s.name)`: use letters, digits, `-` and `_` (it becomes part of the container's name)")
    }
    let container = "\(project)-\(s.name)-\(max(s.replicas, 1))"
    guard container.count <= 64 else {
      throw ComposeError(kind: .invalid, at: s.at, message: "container name `\(container)` is longer than 64 characters")
    }
    var joined: [String] = []
    for n in s.networks ?? [Located(value: "default", at: s.at)] {
      guard let name = networks[n.value] else {
        throw ComposeError(kind: .invalid, at: n.at, message: "service `\(s.name)` joins network `\(n.value)`, which `networks:` does not declare")
      }
      if !joined.contains(name) { joined.append(name) }
    }
    for p in s.ports {
      do { _ = try FlagSyntax.publish(p.value, flag: "ports") } catch {
        throw ComposeError(kind: .invalid, at: p.at, message: "\(error)")
      }
    }
    // Every published port names a host port, which only one container can hold.
    if s.replicas > 1, let p = s.ports.first {
      throw ComposeError(
        kind: .invalid, at: p.at,
        message: "service `\(s.name)` publishes host port `\(p.value)` with \(s.replicas) replicas: a port conflict (each replica would bind it); publish it from one service with one replica")
    }
    var binds: [Located<String>] = []
    var relativeBinds: [Located<String>] = []
    for v in s.volumes {
      let b: FlagSyntax.Bind
      do { b = try FlagSyntax.bind(v.value, flag: "volumes") } catch {
        throw ComposeError(kind: .invalid, at: v.at, message: "\(error)")
      }
      var source = b.source
      if b.isHostPath {
        if source.hasPrefix(".") {
          source = projectDir + "/" + source
          relativeBinds.append(v)
        }
      } else {
        guard let name = volumes[source] else {
          throw ComposeError(
            kind: .invalid, at: v.at,
            message: "volume `\(source)` is not declared in the top-level `volumes:` (a host path starts with `/` or `.`)")
        }
        source = name
      }
      binds.append(Located(value: source + ":" + b.destination + (b.readOnly ? ":ro" : ""), at: v.at))
    }
    var env = s.environment
    env[projectLabel] = project
    env[serviceLabel] = s.name
    var image = s.image
    var build: Build?
    if let b = s.build {
      if image.isEmpty { image = "\(project)-\(s.name):latest" }
      let (name, tag) = split(reference: image)
      let context = b.context.hasPrefix("/") ? b.context : projectDir + "/" + b.context
      build = Build(
        context: (context as NSString).standardizingPath, dockerfile: b.dockerfile, args: b.args, name: name, tag: tag, at: b.at)
    }
    var planned = Service(
      name: s.name, container: container, image: image, argv: (s.entrypoint ?? []) + (s.command ?? []),
      environment: env, ports: s.ports, binds: binds, networks: joined, hostname: s.hostname ?? s.name,
      user: s.user, dns: s.dns, at: s.at)
    planned.relativeBinds = relativeBinds
    planned.restart = s.lifecycle.restart
    planned.build = build
    planned.health = s.lifecycle.health
    planned.environment[hashLabel] = hash(planned.settings)
    // Replicas share the settings (and so the hash); only the container's name differs.
    return (0..<s.replicas).map { i in
      var replica = planned
      replica.container = "\(project)-\(s.name)-\(i + 1)"
      return replica
    }
  }

  /// `NAME:TAG` as `build` takes it (the tag after the last `:` past the last `/`; default
  /// `latest`).
  static func split(reference: String) -> (name: String, tag: String) {
    if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
      return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
    }
    return (reference, "latest")
  }

  /// Services in start order: each after what it depends on, otherwise in file order.
  private static func order(_ services: [ComposeService]) throws(ComposeError) -> [String] {
    var done: [String] = []
    var state: [String: Int] = [:]  // 1: being visited, 2: done
    let byName = Dictionary(uniqueKeysWithValues: services.map { ($0.name, $0) })
    func visit(_ s: ComposeService, from: Located<String>?) throws(ComposeError) {
      if state[s.name] == 2 { return }
      if state[s.name] == 1 {
        throw ComposeError(kind: .invalid, at: from?.at ?? s.at, message: "`depends_on` makes a cycle through service `\(s.name)`")
      }
      state[s.name] = 1
      for d in s.dependsOn { try visit(byName[d.value]!, from: d) }
      state[s.name] = 2
      done.append(s.name)
    }
    for s in services { try visit(s, from: nil) }
    return done
  }

  /// A /24 in 10.208.0.0/12 no listed network uses, starting at a place chosen by the name
  /// (so the same stack gets the same subnet on an empty daemon). It overlaps none of
  /// `taken`, nor the Linux xcd's default network (10.219.0.0/24, made on first use).
  static func freeSubnet(for name: String, taken: Set<String>) -> String? {
    let used = (taken.union(["10.219.0.0/24"])).compactMap(cidr)
    let start = Int(fnv1a(name) % 4096)
    for k in 0..<4096 {
      let n = (start + k) % 4096
      let candidate = "10.\(208 + n / 256).\(n % 256).0/24"
      let c = cidr(candidate)!
      if !used.contains(where: { overlaps($0, c) }) { return candidate }
    }
    return nil
  }

  /// An IPv4 `A.B.C.D/LEN` as its address and prefix length; nil for anything else.
  static func cidr(_ text: String) -> (address: UInt32, length: Int)? {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length) else { return nil }
    let octets = parts[0].split(separator: ".").compactMap { UInt8($0) }
    guard octets.count == 4 else { return nil }
    return (octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, length)
  }

  static func overlaps(_ a: (address: UInt32, length: Int), _ b: (address: UInt32, length: Int)) -> Bool {
    let length = min(a.length, b.length)
    let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
    return a.address & mask == b.address & mask
  }

  static func fnv1a(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in text.utf8 {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  static func hash(_ text: String) -> String {
    let h = String(fnv1a(text), radix: 16)
    return String(repeating: "0", count: 16 - h.count) + h
  }
}

extension StackPlan.Service {
  /// Every setting that makes the container, in one canonical text.
  var settings: String {
    var parts = ["image=\(image)", "argv=\(argv)", "hostname=\(hostname)", "user=\(user ?? "")", "dns=\(dns)"]
    parts.append("env=\(environment.filter { $0.key != StackPlan.hashLabel }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
    parts.append("ports=\(ports.map(\.value))")
    parts.append("binds=\(binds.map(\.value))")
    parts.append("networks=\(networks)")
    // A changed policy or check replaces the container, as in Compose.
    if let restart { parts.append("restart=\(restart.mode):\(restart.maxRetries ?? 0)") }
    if let health {
      parts.append("health=\(health.command) \(health.intervalMs) \(health.timeoutMs) \(health.retries) \(health.startPeriodMs)")
    }
    return parts.joined(separator: "\n")
  }
}
