import Foundation
import XCEngine
import Yams

/// The daemon's configuration: xc's `xc.conf` keys (YAML), plus the Linux extras.
///
/// Every key is optional. xc's keys are read so one file can serve both daemons; those that
/// mean nothing on Linux (ZFS datasets, devfs) are only echoed back by `info`. Command-line
/// flags win over the file.
///
///     # /etc/xc/xc.conf
///     socket_path: /var/run/xc.sock
///     logs_dir: /var/log/xc
///     # Linux extras
///     state_dir: /var/lib/xcd        # images, containers, SQLite state (engine)
///     runc: /usr/sbin/runc           # the OCI runtime binary
///     stop_grace_seconds: 10         # SIGTERM -> SIGKILL delay for kill_container/shutdown
///     log_level: info                # trace, debug, info, notice, warning, error, critical
///     socket_group: xc               # besides root, members of this group (name or gid)
///                                    # may use the socket (0660 root:xc); unset: root only
///     default_network: default       # given to containers that publish ports or ask for
///                                    # VNET without a network; "" turns it off
///     default_network_subnet: 10.219.0.0/24
///     keep_ended: 100                # ended containers' records and logs kept (0: none)
///     keep_ended_seconds: 86400      # and for how long after they ended
struct Config: Equatable {
  // xc's keys (xcd/src/config/mod.rs), as `info` reports them.
  var extIfs: [String] = []
  var imageDataset = ""
  var containerDataset = ""
  var defaultVolumeDriver: String?
  var defaultVolumeDataset: String?
  var defaultVolumeDirectory: String?
  var imageDatabaseStore: String?
  var layersDir: String?
  var logsDir = "/var/log/xc"
  var devfsIdOffset = 1000
  var databaseStore: String?
  var socketPath = "/var/run/xc.sock"
  /// xc's registries JSON (logins); default `<state_dir>/registries.json`, mode 0600.
  var registries: String?
  var forceDevfsRuleset: Int?
  var inventory = "/var/lib/xcd/inventory.json"
  var warnOnly = false

  // Linux extras.
  var stateDir = "/var/lib/xcd"
  var runc = "/usr/sbin/runc"
  var stopGraceSeconds = 10
  var logLevel: String?
  /// The group allowed to use the socket besides root (name or gid); nil: root only.
  var socketGroup: String?
  /// The network for containers that publish ports or ask for VNET without naming one
  /// (created on the first start; its bridge on first use); nil: none, such requests fail.
  var defaultNetwork: String? = DefaultNetwork.standardName
  var defaultNetworkSubnet = DefaultNetwork.standardSubnet
  /// How many ended containers' records and main logs are kept, and for how long.
  var keepEnded = EndedRetention.standard

  /// What the engine is given for `default_network`.
  var engineDefaultNetwork: DefaultNetwork? {
    defaultNetwork.map { DefaultNetwork(name: $0, subnet: defaultNetworkSubnet) }
  }

  /// The registries file in use: `registries`, else `registries.json` in the state dir.
  var registriesPath: String { registries ?? stateDir + "/registries.json" }

  /// Where xcd looks when `--config` is not given, in order (read only if it exists): the
  /// package's file, then the single file earlier releases read.
  static let defaultPaths = ["/etc/xc/xc.conf", "/etc/xc.conf"]

  /// Keys the file may hold; anything else is reported as a warning.
  static let knownKeys: Set<String> = [
    "ext_ifs", "image_dataset", "container_dataset", "default_volume_driver",
    "default_volume_dataset", "default_volume_directory", "image_database_store", "layers_dir",
    "logs_dir", "devfs_id_offset", "database_store", "socket_path", "registries",
    "force_devfs_ruleset", "inventory", "warn_only", "networks",
    "state_dir", "runc", "stop_grace_seconds", "log_level", "socket_group",
    "default_network", "default_network_subnet", "keep_ended", "keep_ended_seconds",
  ]

  struct Problem: Error, CustomStringConvertible {
    var description: String
  }

  /// Reads `path`; unknown keys are returned so the caller can log them.
  static func load(path: String) throws -> (Config, unknownKeys: [String]) {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw Problem(description: "cannot read config file \(path): \(error.localizedDescription)")
    }
    return try parse(text, source: path)
  }

  static func parse(_ text: String, source: String) throws -> (Config, unknownKeys: [String]) {
    let node: Any?
    do {
      node = try Yams.load(yaml: text)
    } catch {
      throw Problem(description: "\(source): not valid YAML: \(error)")
    }
    var config = Config()
    guard let node else { return (config, []) }
    guard let map = node as? [String: Any] else {
      throw Problem(description: "\(source): expected a mapping of keys to values at the top level")
    }
    func string(_ key: String) throws -> String? {
      guard let v = map[key], !(v is NSNull) else { return nil }
      if let s = v as? String { return s }
      throw Problem(description: "\(source): `\(key)` must be a string")
    }
    func int(_ key: String) throws -> Int? {
      guard let v = map[key], !(v is NSNull) else { return nil }
      if let i = v as? Int { return i }
      throw Problem(description: "\(source): `\(key)` must be an integer")
    }
    func bool(_ key: String) throws -> Bool? {
      guard let v = map[key], !(v is NSNull) else { return nil }
      if let b = v as? Bool { return b }
      throw Problem(description: "\(source): `\(key)` must be true or false")
    }
    if let v = map["ext_ifs"], !(v is NSNull) {
      guard let list = v as? [Any], list.allSatisfy({ $0 is String }) else {
        throw Problem(description: "\(source): `ext_ifs` must be a list of interface names")
      }
      config.extIfs = list.map { $0 as! String }
    }
    if let v = try string("image_dataset") { config.imageDataset = v }
    if let v = try string("container_dataset") { config.containerDataset = v }
    config.defaultVolumeDriver = try string("default_volume_driver")
    config.defaultVolumeDataset = try string("default_volume_dataset")
    config.defaultVolumeDirectory = try string("default_volume_directory")
    config.imageDatabaseStore = try string("image_database_store")
    config.layersDir = try string("layers_dir")
    if let v = try string("logs_dir") { config.logsDir = v }
    if let v = try int("devfs_id_offset") { config.devfsIdOffset = v }
    config.databaseStore = try string("database_store")
    if let v = try string("socket_path") { config.socketPath = v }
    config.registries = try string("registries")
    config.forceDevfsRuleset = try int("force_devfs_ruleset")
    if let v = try string("inventory") { config.inventory = v }
    if let v = try bool("warn_only") { config.warnOnly = v }
    if let v = try string("state_dir") { config.stateDir = v }
    if let v = try string("runc") { config.runc = v }
    if let v = try int("stop_grace_seconds") {
      guard v >= 0 else {
        throw Problem(description: "\(source): `stop_grace_seconds` must be >= 0")
      }
      config.stopGraceSeconds = v
    }
    config.logLevel = try string("log_level")
    if let v = map["socket_group"] as? Int { config.socketGroup = String(v) } else {
      config.socketGroup = try string("socket_group")
    }
    if let v = map["default_network"] as? Bool, !v {
      config.defaultNetwork = nil
    } else if let v = try string("default_network") {
      if v.isEmpty { config.defaultNetwork = nil } else {
        do { try Names.network(v, field: "default_network") } catch {
          throw Problem(description: "\(source): \(error)")
        }
        config.defaultNetwork = v
      }
    }
    if let v = try string("default_network_subnet") {
      do { _ = try IPv4CIDR(parsing: v, field: "default_network_subnet") } catch {
        throw Problem(description: "\(source): \(error)")
      }
      config.defaultNetworkSubnet = v
    }
    for (key, path) in [("keep_ended", \EndedRetention.count), ("keep_ended_seconds", \EndedRetention.seconds)] {
      guard let v = try int(key) else { continue }
      guard v >= 0 else { throw Problem(description: "\(source): `\(key)` must be >= 0") }
      config.keepEnded[keyPath: path] = v
    }
    let unknown = map.keys.filter { !knownKeys.contains($0) }.sorted()
    return (config, unknown)
  }
}
