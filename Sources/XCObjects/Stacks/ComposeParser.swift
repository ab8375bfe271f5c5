import Yams

/// Reads a Compose file into a `ComposeFile`: every key is either mapped onto the daemon or
/// refused at its FILE:LINE:COL (never ignored), and every value is interpolated first.
struct ComposeParser {
  /// The file's name in errors.
  let file: String
  /// What `${VAR}` sees: the environment over the project's `.env`.
  let variables: [String: String]
  /// Reads an `env_file:` (a path relative to the project directory); nil when unreadable.
  let readFile: (String) -> String?
  /// For a stack record (StackRecord): each line's key path, which errors name instead of
  /// the line and column; values are then not interpolated (xcsh has already expanded them).
  var keyPaths: [Int: String]? = nil

  static let topKeys: Set<String> = ["services", "networks", "volumes", "name", "version"]
  static let serviceKeys: Set<String> = [
    "image", "command", "entrypoint", "environment", "env_file", "ports", "volumes", "networks",
    "depends_on", "hostname", "user", "dns", "scale", "deploy", "build",
  ]
  /// At most this many replicas of a service (container names stay short; xcd is one host).
  static let maxReplicas = 100
  /// Keys refused with a reason more useful than "not supported".
  static let refusals: [String: String] = [
    "working_dir": "`working_dir:` is not supported: xc's `instantiate` has no working directory (start the command with `cd`)",
    "container_name": "`container_name:` is not supported: a stack names its containers `<project>-<service>-1` so that `stack down` finds them",
    "network_mode": "`network_mode:` is not supported: services join the stack's networks (`networks:`)",
    "configs": "`configs:` is not supported: mount the file with `volumes:` instead",
    "secrets": "`secrets:` is not supported: mount the file with `volumes:` instead",
    "include": "`include:` is not supported: put every service in one file",
    "extends": "`extends:` is not supported: write the service out in full",
  ]

  func parse(_ text: String) throws(ComposeError) -> ComposeFile {
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let e as YamlError {
      throw ComposeError(kind: .invalid, at: ComposePosition(file: file, line: Self.line(of: e), column: 1), message: "not valid YAML: \(e)")
    } catch {
      throw ComposeError(kind: .invalid, at: ComposePosition(file: file, line: 1, column: 1), message: "not valid YAML: \(error)")
    }
    guard let root, case .mapping(let top) = root else {
      throw invalid(root, "a Compose file is a mapping with `services:`")
    }
    var result = ComposeFile(name: nil, services: [], networks: [], volumes: [])
    var servicesNode: Node.Mapping?
    for (k, v) in top {
      let key = try keyName(k)
      if key.hasPrefix("x-") { continue }  // extension fields: for anchors, by definition unused
      switch key {
      case "services":
        guard case .mapping(let m) = v else { throw invalid(v, "`services` maps service names to services") }
        servicesNode = m
      case "networks": result.networks = try networks(v)
      case "volumes": result.volumes = try volumes(v)
      case "name": result.name = try string(v, "`name`")
      case "version": _ = try string(v, "`version`")  // obsolete in the Compose specification
      default: throw unsupported(k, key, top: true)
      }
    }
    guard let servicesNode, !servicesNode.isEmpty else {
      throw ComposeError(kind: .invalid, at: position(root), message: "no services (a stack needs `services:` with at least one)")
    }
    for (k, v) in servicesNode { result.services.append(try service(k, v)) }
    return result
  }

  // MARK: Sections

  private func service(_ k: Node, _ v: Node) throws(ComposeError) -> ComposeService {
    let name = try keyName(k)
    guard case .mapping(let m) = v else { throw invalid(v, "service `\(name)` must be a mapping") }
    var image: String?
    var s = ComposeService(name: name, at: position(k), image: "")
    var envFile: [String: String] = [:]
    var env: [String: String] = [:]
    for (fk, fv) in m {
      let key = try keyName(fk)
      if key.hasPrefix("x-") { continue }
      if ComposeLifecycleKeys.serviceKeys.contains(key) {
        try ComposeLifecycleKeys.apply(key, fv, at: position(fk), to: &s.lifecycle)
        continue
      }
      switch key {
      case "image": image = try string(fv, "`image`")
      case "command": s.command = try argv(fv, "`command`")
      case "entrypoint": s.entrypoint = try argv(fv, "`entrypoint`")
      case "environment": env = try environment(fv)
      case "env_file":
        for path in try stringOrList(fv, "`env_file`") {
          guard let text = readFile(path.value) else {
            throw ComposeError(kind: .invalid, at: path.at, message: "`env_file`: cannot read `\(path.value)`")
          }
          do {
            for (n, val) in try EnvFile.parse(text, file: path.value, environment: variables) { envFile[n] = val }
          } catch let e as EnvFile.Failure {
            throw ComposeError(kind: .invalid, at: path.at, message: "`env_file`: \(e)")
          } catch {
            throw ComposeError(kind: .invalid, at: path.at, message: "`env_file`: \(error)")
          }
        }
      case "ports": s.ports = try shortList(fv, "`ports`", long: "the long form of `ports` (a mapping) is not supported: write `[IP:]HOST:CONTAINER[/PROTO]`")
      case "volumes": s.volumes = try shortList(fv, "`volumes`", long: "the long form of `volumes` (a mapping) is not supported: write `SOURCE:DEST[:ro]`")
      case "networks": s.networks = try serviceNetworks(fv)
      case "depends_on": s.dependsOn = try dependsOn(fv)
      case "hostname": s.hostname = try string(fv, "`hostname`")
      case "user": s.user = try string(fv, "`user`")
      case "dns": s.dns = try stringOrList(fv, "`dns`").map(\.value)
      case "scale": try setReplicas(&s, try replicaCount(fv, "`scale`"), at: position(fv))
      case "deploy": try deploy(fv, &s)
      case "build": s.build = try build(fv, at: position(fk))
      default: throw unsupported(fk, key, top: false)
      }
    }
    if image?.isEmpty ?? true, s.build == nil {
      throw ComposeError(kind: .invalid, at: position(k), message: "service `\(name)` has neither `image:` nor `build:`")
    }
    s.image = image ?? ""
    s.environment = envFile.merging(env) { _, e in e }
    return s
  }

  /// `build: DIR` or its mapping form; the keys of Compose's build section xcsh's `build`
  /// has no counterpart for are refused.
  private func build(_ v: Node, at: ComposePosition) throws(ComposeError) -> ComposeBuild {
    if case .scalar = v { return ComposeBuild(context: try string(v, "`build`"), at: position(v)) }
    guard case .mapping(let m) = v else { throw invalid(v, "`build` is a directory or a mapping with `context:`") }
    var b = ComposeBuild(context: ".", at: at)
    for (k, body) in m {
      let key = try keyName(k)
      if key.hasPrefix("x-") { continue }
      switch key {
      case "context": b.context = try string(body, "`build.context`")
      case "dockerfile": b.dockerfile = try string(body, "`build.dockerfile`")
      case "args":
        b.args = try environment(body)
      default:
        throw ComposeError(
          kind: .unsupported, at: position(k),
          message: "`build.\(key)` is not supported (only `context`, `dockerfile` and `args`; docs/jailfile.md)")
      }
    }
    return b
  }

  /// `deploy:`: only `replicas` means anything on one daemon; the rest is Swarm's.
  private func deploy(_ v: Node, _ s: inout ComposeService) throws(ComposeError) {
    guard case .mapping(let m) = v else { throw invalid(v, "`deploy` must be a mapping") }
    for (k, body) in m {
      let key = try keyName(k)
      if key.hasPrefix("x-") { continue }
      switch key {
      case "replicas": try setReplicas(&s, try replicaCount(body, "`deploy.replicas`"), at: position(body))
      case "mode":
        let mode = try string(body, "`deploy.mode`")
        guard mode == "replicated" else {
          throw ComposeError(kind: .unsupported, at: position(body), message: "`deploy.mode: \(mode)` is not supported (only `replicated`)")
        }
      default:
        throw ComposeError(
          kind: .unsupported, at: position(k),
          message: "`deploy.\(key)` is not supported (only `replicas`; limits are `run --memory`/`--cpus`, not stack keys yet)")
      }
    }
  }

  private func replicaCount(_ v: Node, _ what: String) throws(ComposeError) -> Int {
    let text = try string(v, what)
    guard let n = Int(text), (0...Self.maxReplicas).contains(n) else {
      throw invalid(v, "\(what) is a number of containers from 0 to \(Self.maxReplicas), not `\(text)`")
    }
    return n
  }

  /// `scale` and `deploy.replicas` both given must agree, as the Compose specification says.
  private func setReplicas(_ s: inout ComposeService, _ n: Int, at: ComposePosition) throws(ComposeError) {
    if s.replicasAt != nil, s.replicas != n {
      throw ComposeError(kind: .invalid, at: at, message: "`scale` and `deploy.replicas` disagree (\(s.replicas) and \(n)); give one")
    }
    s.replicas = n
    s.replicasAt = at
  }

  private func networks(_ v: Node) throws(ComposeError) -> [ComposeNetwork] {
    var subnets: [String: String] = [:]
    return try resources(v, "network", driver: "bridge", driverNote: "only `bridge`") { (entry, key, value) throws(ComposeError) in
      guard key == "ipam" else { return false }
      subnets[entry] = try ipamSubnet(value)
      return true
    }.map { ComposeNetwork(key: $0.key, at: $0.at, subnet: subnets[$0.key], externalName: $0.externalName) }
  }

  /// A top-level `networks:` or `volumes:` section: each entry's key, place and external name.
  /// `external`, `name`, `driver` (only `allowed`) and `x-*` keys are read here; any other key
  /// goes to `other`, which says whether it took it (else it is refused at its place).
  private func resources(
    _ v: Node, _ noun: String, driver allowed: String, driverNote: String,
    other: (_ entry: String, _ key: String, _ value: Node) throws(ComposeError) -> Bool = { _, _, _ in false }
  ) throws(ComposeError) -> [(key: String, at: ComposePosition, externalName: String?)] {
    if v.null != nil { return [] }
    guard case .mapping(let m) = v else { throw invalid(v, "`\(noun)s` maps \(noun) names to settings") }
    var out: [(key: String, at: ComposePosition, externalName: String?)] = []
    for (k, body) in m {
      let entry = try keyName(k)
      var external = false
      var name: String?
      if body.null == nil {
        guard case .mapping(let fields) = body else { throw invalid(body, "\(noun) `\(entry)` must be a mapping") }
        for (fk, fv) in fields {
          let key = try keyName(fk)
          switch key {
          case "external": external = try bool(fv, "`external`")
          case "name": name = try string(fv, "`name`")
          case "driver":
            let d = try string(fv, "`driver`")
            guard d == allowed else {
              throw ComposeError(kind: .unsupported, at: position(fv), message: "\(noun) driver `\(d)` is not supported (\(driverNote))")
            }
          default:
            if key.hasPrefix("x-") { continue }
            if try other(entry, key, fv) { continue }
            throw ComposeError(kind: .unsupported, at: position(fk), message: "\(noun) key `\(key)` is not supported (docs/stacks.md lists the supported keys)")
          }
        }
      }
      if !external, name != nil {
        throw ComposeError(kind: .unsupported, at: position(k), message: "`name:` on a \(noun) the stack creates is not supported: its name is `<project>-\(entry)` (use `external: true` for a \(noun) made elsewhere)")
      }
      out.append((entry, position(k), external ? name ?? entry : nil))
    }
    return out
  }

  private func ipamSubnet(_ v: Node) throws(ComposeError) -> String? {
    guard case .mapping(let m) = v else { throw invalid(v, "`ipam` must be a mapping") }
    var subnet: String?
    for (k, body) in m {
      let key = try keyName(k)
      switch key {
      case "driver":
        let d = try string(body, "`ipam.driver`")
        guard d == "default" else { throw ComposeError(kind: .unsupported, at: position(body), message: "ipam driver `\(d)` is not supported (only `default`)") }
      case "config":
        guard case .sequence(let items) = body, items.count <= 1 else {
          throw invalid(body, "`ipam.config` must be a list of one `{subnet: …}`")
        }
        for item in items {
          guard case .mapping(let c) = item else { throw invalid(item, "`ipam.config` items are mappings") }
          for (ck, cv) in c {
            let ckey = try keyName(ck)
            guard ckey == "subnet" else {
              throw ComposeError(kind: .unsupported, at: position(ck), message: "`ipam.config.\(ckey)` is not supported (only `subnet`)")
            }
            subnet = try string(cv, "`subnet`")
          }
        }
      default:
        throw ComposeError(kind: .unsupported, at: position(k), message: "`ipam.\(key)` is not supported (only `config: [{subnet: …}]`)")
      }
    }
    return subnet
  }

  private func volumes(_ v: Node) throws(ComposeError) -> [ComposeVolume] {
    try resources(v, "volume", driver: "local", driverNote: "only `local`, a directory volume")
      .map { ComposeVolume(key: $0.key, at: $0.at, externalName: $0.externalName) }
  }

  private func serviceNetworks(_ v: Node) throws(ComposeError) -> [Located<String>] {
    switch v {
    case .sequence(let items):
      var out: [Located<String>] = []
      for item in items { out.append(Located(value: try string(item, "a network name"), at: position(item))) }
      return out
    case .mapping(let m):
      var out: [Located<String>] = []
      for (k, body) in m {
        guard body.null != nil || body.mapping?.isEmpty == true else {
          throw ComposeError(kind: .unsupported, at: position(body), message: "per-network settings (`aliases`, `ipv4_address`, …) are not supported: list the network's name only")
        }
        out.append(Located(value: try keyName(k), at: position(k)))
      }
      return out
    default:
      throw invalid(v, "`networks` of a service is a list of network names")
    }
  }

  private func dependsOn(_ v: Node) throws(ComposeError) -> [Located<String>] {
    switch v {
    case .sequence(let items):
      var out: [Located<String>] = []
      for item in items { out.append(Located(value: try string(item, "a service name"), at: position(item))) }
      return out
    case .mapping(let m):
      var out: [Located<String>] = []
      for (k, body) in m {
        if case .mapping(let fields) = body {
          for (fk, fv) in fields {
            let key = try keyName(fk)
            switch key {
            case "condition":
              let c = try string(fv, "`condition`")
              switch c {
              case "service_started": break
              case "service_healthy": try ComposeLifecycleKeys.healthyCondition(at: position(fv))
              default:
                throw ComposeError(kind: .unsupported, at: position(fv), message: "`condition: \(c)` is not supported (only `service_started`)")
              }
            case "required":
              guard try bool(fv, "`required`") else {
                throw ComposeError(kind: .unsupported, at: position(fv), message: "`required: false` is not supported")
              }
            default:
              throw ComposeError(kind: .unsupported, at: position(fk), message: "`depends_on` key `\(key)` is not supported (only `condition`)")
            }
          }
        } else if body.null == nil {
          throw invalid(body, "a `depends_on` entry is a mapping (`condition: service_started`)")
        }
        out.append(Located(value: try keyName(k), at: position(k)))
      }
      return out
    default:
      throw invalid(v, "`depends_on` is a list of service names")
    }
  }

  private func environment(_ v: Node) throws(ComposeError) -> [String: String] {
    var env: [String: String] = [:]
    switch v {
    case .mapping(let m):
      for (k, val) in m {
        let name = try keyName(k)
        // `NAME:` with no value takes the variable from the environment, as Compose does.
        if val.null != nil {
          if let inherited = variables[name] { env[name] = inherited }
        } else {
          env[name] = try string(val, "the value of `\(name)`")
        }
      }
    case .sequence(let items):
      for item in items {
        let text = try string(item, "an `environment` item")
        if let eq = text.firstIndex(of: "="), eq != text.startIndex {
          env[String(text[..<eq])] = String(text[text.index(after: eq)...])
        } else if let inherited = variables[text] {
          env[text] = inherited
        }
      }
    default:
      throw invalid(v, "`environment` is a mapping or a list of `NAME=VALUE`")
    }
    return env
  }

  // MARK: Values

  private func argv(_ v: Node, _ what: String) throws(ComposeError) -> [String] {
    switch v {
    case .sequence(let items):
      var out: [String] = []
      for item in items { out.append(try string(item, "an item of \(what)")) }
      return out
    case .scalar:
      let text = try string(v, what)
      guard let words = Self.words(text) else { throw invalid(v, "\(what): an unclosed quote in `\(text)`") }
      return words
    default:
      throw invalid(v, "\(what) is a string or a list of strings")
    }
  }

  private func shortList(_ v: Node, _ what: String, long: String) throws(ComposeError) -> [Located<String>] {
    guard case .sequence(let items) = v else { throw invalid(v, "\(what) is a list") }
    var out: [Located<String>] = []
    for item in items {
      if case .mapping = item { throw ComposeError(kind: .unsupported, at: position(item), message: long) }
      out.append(Located(value: try string(item, "an item of \(what)"), at: position(item)))
    }
    return out
  }

  private func stringOrList(_ v: Node, _ what: String) throws(ComposeError) -> [Located<String>] {
    if case .scalar = v { return [Located(value: try string(v, what), at: position(v))] }
    guard case .sequence(let items) = v else { throw invalid(v, "\(what) is a string or a list") }
    var out: [Located<String>] = []
    for item in items {
      if case .mapping = item {
        throw ComposeError(kind: .unsupported, at: position(item), message: "the long form of \(what) is not supported: give paths")
      }
      out.append(Located(value: try string(item, "an item of \(what)"), at: position(item)))
    }
    return out
  }

  /// A scalar's text, interpolated.
  private func string(_ v: Node, _ what: String) throws(ComposeError) -> String {
    guard case .scalar(let s) = v else { throw invalid(v, "\(what) must be a single value") }
    if keyPaths != nil { return s.string }
    do {
      return try ComposeInterpolation.expand(s.string, variables)
    } catch {
      throw ComposeError(kind: .invalid, at: position(v), message: error.message)
    }
  }

  private func bool(_ v: Node, _ what: String) throws(ComposeError) -> Bool {
    switch try string(v, what) {
    case "true", "True", "yes": return true
    case "false", "False", "no": return false
    case let t: throw invalid(v, "\(what) is `true` or `false`, not `\(t)`")
    }
  }

  /// A mapping key as text (keys are not interpolated, as in Compose).
  private func keyName(_ k: Node) throws(ComposeError) -> String {
    guard case .scalar(let s) = k else { throw invalid(k, "a key must be a plain name") }
    return s.string
  }

  // MARK: Errors

  func position(_ n: Node?) -> ComposePosition {
    let line = n?.mark?.line ?? 1
    if let keyPaths {
      // StackRecord writes a non-empty collection on the lines after its key (or `-`): the
      // collection's own path is the line before its first line.
      var own = line
      switch n {
      case .mapping(let m)? where !m.isEmpty: own -= 1
      case .sequence(let s)? where !s.isEmpty: own -= 1
      default: break
      }
      return ComposePosition(file: file, line: own, column: 1, keyPath: keyPaths[own] ?? "")
    }
    return ComposePosition(file: file, line: line, column: n?.mark?.column ?? 1)
  }

  private func invalid(_ n: Node?, _ message: String) -> ComposeError {
    ComposeError(kind: .invalid, at: position(n), message: message)
  }

  private func unsupported(_ k: Node, _ key: String, top: Bool) -> ComposeError {
    let message =
      Self.refusals[key]
      ?? "`\(key)` is not supported in \(top ? "a stack file" : "a service") (docs/stacks.md lists the supported keys)"
    return ComposeError(kind: .unsupported, at: position(k), message: message)
  }

  private static func line(of e: YamlError) -> Int {
    switch e {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
    default: 1
    }
  }

  /// A command string split into words as Compose does (quotes and backslashes, no shell).
  static func words(_ text: String) -> [String]? {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    var escape = false
    for c in text {
      if escape {
        current.append(c)
        escape = false
        continue
      }
      if let q = quote {
        if c == q {
          quote = nil
        } else if c == "\\" && q == "\"" {
          escape = true
        } else {
          current.append(c)
        }
        continue
      }
      switch c {
      case "'", "\"":
        quote = c
        inWord = true
      case "\\":
        escape = true
        inWord = true
      case " ", "\t", "\n":
        if inWord { words.append(current) }
        current = ""
        inWord = false
      default:
        current.append(c)
        inWord = true
      }
    }
    if quote != nil || escape { return nil }
    if inWord { words.append(current) }
    return words
  }
}
