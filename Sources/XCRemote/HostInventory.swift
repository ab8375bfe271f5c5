import Foundation

/// One named host of the inventory.
public struct InventoryHost: Sendable, Equatable {
  public var name: String
  /// The address as written (`ssh://…`).
  public var address: String
  /// Free-form `key: value` labels, sorted by key.
  public var labels: [String: String]
  /// Extra ssh `-o Key=Value` options.
  public var options: [String]
  /// `sudo: true` / `doas: true`: the relay runs as root through `sudo -n` / `doas -n`.
  public var privilege: RelayPrivilege
  /// `relay: /path`: a pre-built relay there, used instead of compiling one.
  public var relayPath: String?

  public init(
    name: String, address: String, labels: [String: String] = [:], options: [String] = [],
    privilege: RelayPrivilege = .none, relayPath: String? = nil
  ) {
    self.name = name
    self.address = address
    self.labels = labels
    self.options = options
    self.privilege = privilege
    self.relayPath = relayPath
  }

  /// The host to connect to: the address with this entry's ssh options.
  public func remote() throws(InventoryError) -> RemoteHost {
    do throws(RemoteHostSyntaxError) {
      var r = try RemoteHost(parsing: address)
      r.sshOptions = options
      r.privilege = privilege
      r.relayPath = relayPath
      return r
    } catch {
      throw InventoryError(path: nil, line: nil, "host `\(name)`: \(error)")
    }
  }
}

/// A bad inventory file or a name it does not have; says the file and line when there is one.
public struct InventoryError: Error, Sendable, CustomStringConvertible {
  public var path: String?
  public var line: Int?
  public var message: String

  public init(path: String?, line: Int?, _ message: String) {
    self.path = path
    self.line = line
    self.message = message
  }

  public var description: String {
    guard let path else { return message }
    return line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
  }
}

/// The host inventory (`~/.config/xcsh/hosts.yaml`, docs/remote.md "Inventory"): named hosts
/// with an `ssh://` address, labels and ssh options, and groups of host names.
///
///     hosts:
///       web1:
///         address: ssh://root@web1.example/var/run/xc.sock
///         labels: {role: web}
///         options: [ConnectTimeout=5]
///     groups:
///       web: [web1]
public struct HostInventory: Sendable, Equatable {
  /// The file it was read from (and is written to).
  public var path: String
  /// In file order.
  public var hosts: [InventoryHost]
  /// In file order: group name and its host names.
  public var groups: [(name: String, members: [String])]

  public init(path: String, hosts: [InventoryHost] = [], groups: [(name: String, members: [String])] = []) {
    self.path = path
    self.hosts = hosts
    self.groups = groups
  }

  public static func == (a: HostInventory, b: HostInventory) -> Bool {
    a.path == b.path && a.hosts == b.hosts && a.groups.map(\.name) == b.groups.map(\.name)
      && a.groups.map(\.members) == b.groups.map(\.members)
  }

  /// `$XCSH_HOSTS`, else `$XDG_CONFIG_HOME/xcsh/hosts.yaml`, else `~/.config/xcsh/hosts.yaml`.
  public static func defaultPath(environment env: [String: String]) -> String {
    if let p = env["XCSH_HOSTS"], !p.isEmpty { return p }
    if let c = env["XDG_CONFIG_HOME"], !c.isEmpty { return c + "/xcsh/hosts.yaml" }
    let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.config/xcsh/hosts.yaml"
  }

  /// Reads the inventory at `path`; a missing file is an empty inventory.
  public static func load(path: String) throws(InventoryError) -> HostInventory {
    guard FileManager.default.fileExists(atPath: path) else { return HostInventory(path: path) }
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      throw InventoryError(path: path, line: nil, "cannot read the file (or it is not UTF-8)")
    }
    return try HostInventory(parsing: text, path: path)
  }

  public func host(named name: String) -> InventoryHost? { hosts.first { $0.name == name } }

  /// The groups `name` belongs to, in file order.
  public func groups(of name: String) -> [String] { groups.filter { $0.members.contains(name) }.map(\.name) }

  /// Host names for a host or a group name.
  public func expand(_ name: String) throws(InventoryError) -> [String] {
    if host(named: name) != nil { return [name] }
    if let g = groups.first(where: { $0.name == name }) { return g.members }
    throw InventoryError(path: nil, line: nil, "no host or group `\(name)` in the inventory \(path)")
  }

  /// What `--host` and `$XC_HOST` take: an `ssh://` address (the inventory is not read), or a
  /// host's name in the inventory at `defaultPath(environment:)`.
  public static func resolve(_ text: String, environment: [String: String]) throws(InventoryError) -> RemoteHost {
    if text.hasPrefix("ssh://") { return try HostInventory(path: "").resolve(text) }
    return try load(path: defaultPath(environment: environment)).resolve(text)
  }

  /// An `ssh://` address, or a host's name in this inventory.
  public func resolve(_ text: String) throws(InventoryError) -> RemoteHost {
    if text == Self.reservedLocalName {
      throw InventoryError(
        path: nil, line: nil, "`local` is this machine's daemon, not a remote host: leave out --host / $XC_HOST to use it")
    }
    // What cannot be a name (`web1:22`, `ops@web1`) was meant as an address: say how to write one.
    let isName = (try? Self.checkName(text, what: "host", path: nil, line: nil)) != nil
    if text.hasPrefix("ssh://") || !isName {
      do throws(RemoteHostSyntaxError) {
        return try RemoteHost(parsing: text)
      } catch {
        throw InventoryError(path: nil, line: nil, "\(error)")
      }
    }
    guard let h = host(named: text) else {
      let group = groups.contains { $0.name == text } ? " (`\(text)` is a group; --host takes one host)" : ""
      throw InventoryError(
        path: nil, line: nil,
        "`\(text)` is neither an ssh://[user@]host[:port][/socket] address nor a host in the inventory \(path)\(group)")
    }
    return try h.remote()
  }

  // MARK: - Changes

  /// Adds a host; its name must be new and its address valid.
  public mutating func add(_ h: InventoryHost) throws(InventoryError) {
    try Self.checkName(h.name, what: "host", path: nil, line: nil)
    guard host(named: h.name) == nil, !groups.contains(where: { $0.name == h.name }) else {
      throw InventoryError(path: nil, line: nil, "`\(h.name)` is already in the inventory \(path)")
    }
    for (k, _) in h.labels { try Self.checkLabel(k, path: nil, line: nil) }
    for o in h.options { try Self.checkOption(o, path: nil, line: nil) }
    if let r = h.relayPath { try Self.checkRelayPath(r, host: h.name, path: nil, line: nil) }
    _ = try h.remote()
    hosts.append(h)
  }

  /// Removes a host and its membership in every group.
  public mutating func remove(_ name: String) throws(InventoryError) {
    guard host(named: name) != nil else {
      throw InventoryError(path: nil, line: nil, "no host `\(name)` in the inventory \(path)")
    }
    hosts.removeAll { $0.name == name }
    groups = groups.map { ($0.name, $0.members.filter { $0 != name }) }
  }

  // MARK: - Names

  static let nameBytes = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".utf8)

  /// The name `on`/`fleet` give this machine's daemon; no host or group may take it.
  public static let reservedLocalName = "local"

  /// Host and group names: letters, digits and `._-`, not starting with `-` or `.`.
  static func checkName(_ name: String, what: String, path: String?, line: Int?) throws(InventoryError) {
    guard let first = name.utf8.first, first != UInt8(ascii: "-"), first != UInt8(ascii: "."),
      name.utf8.allSatisfy({ nameBytes.contains($0) })
    else {
      throw InventoryError(path: path, line: line, "`\(name)` is not a valid \(what) name (letters, digits and `._-`, not starting with `-` or `.`)")
    }
    // `local` names this machine's daemon inside `on`/`fleet` (docs/remote.md): an inventory
    // entry of that name could never be reached, so it is refused rather than shadowed.
    if name == reservedLocalName {
      throw InventoryError(path: path, line: line, "`local` is reserved for this machine's daemon (`on local { … }`): give the \(what) another name")
    }
  }

  static func checkLabel(_ key: String, path: String?, line: Int?) throws(InventoryError) {
    guard !key.isEmpty, key.utf8.allSatisfy({ nameBytes.contains($0) || $0 == UInt8(ascii: "/") }) else {
      throw InventoryError(path: path, line: line, "`\(key)` is not a valid label key (letters, digits and `._-/`)")
    }
  }

  /// A pre-built relay: an absolute path of characters no shell treats specially (it travels
  /// inside the remote command line).
  static func checkRelayPath(_ relay: String, host: String, path: String?, line: Int?) throws(InventoryError) {
    guard relay.hasPrefix("/"), relay.count > 1, relay.utf8.allSatisfy({ RemoteHost.pathBytes.contains($0) }) else {
      throw InventoryError(
        path: path, line: line, "host `\(host)`: `relay` must be an absolute path of letters, digits and `/._-`, not `\(relay)`")
    }
  }

  /// ssh options xcsh sets itself: a host may not change them.
  static let ownedOptions: Set<String> = ["batchmode", "controlmaster", "controlpath", "controlpersist"]

  /// `Key=Value`, the form `ssh -o` takes, for a key xcsh does not own.
  static func checkOption(_ option: String, path: String?, line: Int?) throws(InventoryError) {
    guard let eq = option.firstIndex(of: "="), option.startIndex < eq,
      option[..<eq].allSatisfy({ $0.isASCII && $0.isLetter })
    else {
      throw InventoryError(path: path, line: line, "the ssh option `\(option)` must be written Key=Value (as for ssh -o)")
    }
    let key = option[..<eq].lowercased()
    guard !ownedOptions.contains(key) else {
      throw InventoryError(path: path, line: line, "the ssh option `\(option[..<eq])` is set by xcsh (docs/remote.md) and cannot be changed per host")
    }
  }
}
