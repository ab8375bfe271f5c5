/// The part of a Compose file xcsh understands (docs/stacks.md), after interpolation and with
/// every key checked: what `stack up` turns into networks, volumes and containers.
struct ComposeFile: Sendable {
  /// The top-level `name:`, when given.
  var name: String?
  /// In file order; `StackPlan` orders them by `depends_on`.
  var services: [ComposeService]
  var networks: [ComposeNetwork]
  var volumes: [ComposeVolume]
}

/// A place in a Compose file, as `FILE:LINE:COL` (1-based); in a stack record, which has no
/// lines, the key path (`stack record at `services.web.build``).
struct ComposePosition: Sendable, Equatable, CustomStringConvertible {
  var file: String
  var line: Int
  var column: Int
  var keyPath: String? = nil
  var description: String {
    guard let keyPath else { return "\(file):\(line):\(column)" }
    return keyPath.isEmpty ? file : "\(file) at `\(keyPath)`"
  }
}

/// A value and where it was written.
struct Located<T: Sendable & Equatable>: Sendable, Equatable {
  var value: T
  var at: ComposePosition
}

/// A Compose file that cannot be used: where, and why.
struct ComposeError: Error, Equatable, CustomStringConvertible {
  enum Kind: Sendable, Equatable {
    /// Not valid YAML, or a value of the wrong shape.
    case invalid
    /// A key (or form of a value) xcsh does not map onto the daemon.
    case unsupported
  }
  var kind: Kind
  var at: ComposePosition
  var message: String
  var description: String { "\(at): \(message)" }
}

struct ComposeService: Sendable {
  var name: String
  var at: ComposePosition
  /// Empty when only `build:` names the image (then `<project>-<service>:latest`).
  var image: String
  /// `build:`: the image is built from a Jailfile (or Dockerfile) before the services start.
  var build: ComposeBuild?
  /// `command:`, split as Compose splits a string form (no shell).
  var command: [String]?
  var entrypoint: [String]?
  /// `env_file:` then `environment:` (which wins).
  var environment: [String: String] = [:]
  /// Short-syntax `ports:` items (`[IP:]HOST:CONTAINER[/PROTO]`).
  var ports: [Located<String>] = []
  /// Short-syntax `volumes:` items (`VOLUME:DEST[:ro]`, `./HOST:DEST`, `/HOST:DEST`).
  var volumes: [Located<String>] = []
  /// The networks' keys; nil means the stack's `default` network.
  var networks: [Located<String>]?
  /// Services started before this one (`condition: service_started`).
  var dependsOn: [Located<String>] = []
  var hostname: String?
  var user: String?
  var dns: [String] = []
  /// `scale:` or `deploy.replicas:` (which must agree): containers `<project>-<service>-1…N`.
  var replicas = 1
  /// Where the replica count was written (for the port-conflict refusal).
  var replicasAt: ComposePosition?
  /// `restart:` and `healthcheck:`, once `run` has their flags (ComposeLifecycleKeys).
  var lifecycle = ComposeLifecycle()
}

/// `build: DIR` or `build: {context: DIR, dockerfile: FILE, args: {NAME: VALUE}}`.
struct ComposeBuild: Sendable {
  /// Relative to the project directory.
  var context: String
  /// Relative to the context; nil: `Jailfile`, else `Dockerfile`.
  var dockerfile: String?
  var args: [String: String] = [:]
  var at: ComposePosition
}

struct ComposeNetwork: Sendable {
  /// The key under `networks:`.
  var key: String
  var at: ComposePosition
  /// `ipam.config[0].subnet`.
  var subnet: String?
  /// `external: true`: used as it is, never created or removed; `name:` names it.
  var externalName: String?
}

struct ComposeVolume: Sendable {
  var key: String
  var at: ComposePosition
  var externalName: String?
}
