import XCIPC
import Yams

/// What a service says about restarting and health (`restart:` and `healthcheck:`), as `run`'s
/// `--restart` and `--health-cmd` flags would say it.
struct ComposeLifecycle: Sendable, Equatable {
  /// Nil: no policy (`no`, or no key).
  var restart: RestartPolicySpec?
  /// Nil: no check (no key, `disable: true` or `test: [NONE]`).
  var health: HealthCheckSpec?
}

enum ComposeLifecycleKeys {
  /// The service keys handled here.
  static let serviceKeys: Set<String> = ["restart", "healthcheck"]
  /// The `healthcheck:` keys understood (Compose's, less `start_interval`).
  static let healthKeys = ["test", "interval", "timeout", "retries", "start_period", "disable"]

  /// Checks the value of `key` (one of `serviceKeys`) and records it in `lifecycle`.
  static func apply(
    _ key: String, _ value: Node, at: ComposePosition, to lifecycle: inout ComposeLifecycle
  ) throws(ComposeError) {
    switch key {
    case "restart":
      guard case .scalar(let text) = value, let policy = LifecycleFlags.restartPolicy(text.string) else {
        throw ComposeError(
          kind: .invalid, at: at, message: "`restart:` expects no, always, on-failure, on-failure:N or unless-stopped")
      }
      lifecycle.restart = policy.mode == "no" ? nil : policy
    default:
      lifecycle.health = try healthCheck(value, at: at)
    }
  }

  /// `healthcheck:` as Docker's defaults complete it (`HealthCheckRules`: interval and timeout
  /// 30s, 3 retries).
  private static func healthCheck(_ value: Node, at: ComposePosition) throws(ComposeError) -> HealthCheckSpec? {
    guard case .mapping(let map) = value else {
      throw ComposeError(kind: .invalid, at: at, message: "`healthcheck:` expects a mapping (test, interval, timeout, retries, start_period)")
    }
    func place(_ n: Node, _ key: String) -> ComposePosition {
      // A stack record has no lines: the place is the healthcheck's key path plus the key.
      if let path = at.keyPath { return ComposePosition(file: at.file, line: at.line, column: 1, keyPath: path + "." + key) }
      return ComposePosition(file: at.file, line: (n.mark?.line ?? at.line), column: n.mark?.column ?? at.column)
    }
    var command: [String]? = nil
    var interval = HealthCheckRules.interval, timeout = HealthCheckRules.timeout
    var startPeriod = HealthCheckRules.startPeriod, retries = HealthCheckRules.retries
    var disabled = false
    for (k, v) in map {
      let key = k.string ?? ""
      func duration(zeroAllowed: Bool = false) throws(ComposeError) -> Int64 {
        guard let text = v.string, let ns = LogSelection.dockerDuration(text),
          HealthCheckRules.accepts(ns, zeroAllowed: zeroAllowed)
        else {
          throw ComposeError(kind: .invalid, at: place(v, key), message: "`healthcheck.\(key)`: expected a duration such as 30s or 1m30s, at most 24h")
        }
        return ns
      }
      switch key {
      case "test": command = try test(v, at: place(v, key))
      case "interval": interval = try duration()
      case "timeout": timeout = try duration()
      case "start_period": startPeriod = try duration(zeroAllowed: true)
      case "retries":
        let range = HealthCheckRules.retryRange
        guard let n = v.int, range.contains(n) else {
          throw ComposeError(
            kind: .invalid, at: place(v, key),
            message: "`healthcheck.retries`: expected \(range.lowerBound) to \(range.upperBound)")
        }
        retries = n
      case "disable":
        guard let b = v.bool else {
          throw ComposeError(kind: .invalid, at: place(v, key), message: "`healthcheck.disable`: expected true or false")
        }
        disabled = b
      default:
        throw ComposeError(
          kind: .unsupported, at: place(k, key),
          message: "`healthcheck.\(key)` is not supported (supported: \(healthKeys.joined(separator: ", ")))")
      }
    }
    if disabled { return nil }
    guard let command else {
      throw ComposeError(kind: .invalid, at: at, message: "`healthcheck:` needs `test:` (or `disable: true`)")
    }
    if command.isEmpty { return nil }  // `test: [NONE]`
    return HealthCheckRules.spec(
      command: command, interval: interval, timeout: timeout, retries: retries, startPeriod: startPeriod)
  }

  /// `test:` as Compose writes it: a string (run by the shell), `[CMD, prog, args…]`,
  /// `[CMD-SHELL, "cmd"]`, or `[NONE]` (no check: an empty argv here).
  private static func test(_ v: Node, at: ComposePosition) throws(ComposeError) -> [String] {
    if let text = v.string, case .scalar = v {
      guard !text.allSatisfy(\.isWhitespace) else {
        throw ComposeError(kind: .invalid, at: at, message: "`healthcheck.test` is empty")
      }
      return ["/bin/sh", "-c", text]
    }
    guard case .sequence(let items) = v, let words = Optional(items.compactMap(\.string)), words.count == items.count,
      let form = words.first
    else {
      throw ComposeError(kind: .invalid, at: at, message: "`healthcheck.test` expects a string or a list such as [CMD, curl, -f, http://localhost/]")
    }
    switch form {
    case "NONE": return []
    case "CMD" where words.count > 1: return Array(words.dropFirst())
    case "CMD-SHELL" where words.count > 1: return ["/bin/sh", "-c", words.dropFirst().joined(separator: " ")]
    default:
      throw ComposeError(kind: .invalid, at: at, message: "`healthcheck.test` list starts with CMD, CMD-SHELL or NONE, followed by the command")
    }
  }

  /// `depends_on: {svc: {condition: service_healthy}}`: `stack up` starts services in order
  /// without waiting for health checks.
  static func healthyCondition(at: ComposePosition) throws(ComposeError) {
    throw ComposeError(
      kind: .unsupported, at: at,
      message: "`condition: service_healthy` is not supported yet (`stack up` does not wait for health checks); use `service_started`, then `wait CONTAINER --healthy` in the script")
  }
}
