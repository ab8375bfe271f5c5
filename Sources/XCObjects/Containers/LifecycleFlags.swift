import XCIPC
import XCShell

/// Restart policies and health checks on `run`/`create` (Docker's flag names: `--restart`,
/// `--health-cmd`, `--health-interval`, `--health-timeout`, `--health-retries`,
/// `--health-start-period`), sent as the instantiate extension fields `xcsh_restart` and
/// `xcsh_health`. xc's daemon would ignore them, so xcsh asks first, as for resource limits.
enum LifecycleFlags {
  static let parameters: [Parameter] = [
    .named("restart", .string, "Start main again when it ends: `no`, `on-failure[:N]` (non-zero exit, at most N times), `always` (`unless-stopped` is the same here); with `-d`. `stop`/`kill` end it for good."),
    .named("health-cmd", .any, "A health check run in the container: a string (by `/bin/sh -c`) or a list (argv); exit 0 is healthy."),
    .named("health-interval", .duration, "Time between health checks (default \(seconds(HealthCheckRules.interval)))."),
    .named("health-timeout", .duration, "A check running longer fails (default \(seconds(HealthCheckRules.timeout)))."),
    .named("health-retries", .int, "Failures in a row that make the container unhealthy (default \(HealthCheckRules.retries))."),
    .named("health-start-period", .duration, "From main's start: failures meanwhile do not count (default \(seconds(HealthCheckRules.startPeriod)))."),
  ]

  /// A default of whole seconds as the help writes it (`30s`).
  private static func seconds(_ ns: Int64) -> String { "\(ns / 1_000_000_000)s" }

  static let healthFlags = ["health-interval", "health-timeout", "health-retries", "health-start-period"]

  /// A `--restart` value: `no`, `always` (or `unless-stopped`), `on-failure` or `on-failure:N` (N ≥ 1).
  static func restartPolicy(_ text: String) -> RestartPolicySpec? {
    switch text {
    case "no": return RestartPolicySpec(mode: "no")
    // Docker's `unless-stopped` differs from `always` only across a daemon restart, and xcd
    // restarts no container after its own restart (docs/engine.md): here they are the same.
    case "always", "unless-stopped": return RestartPolicySpec(mode: "always")
    case "on-failure": return RestartPolicySpec(mode: "on-failure")
    default:
      guard text.hasPrefix("on-failure:"), let n = Int(text.dropFirst("on-failure:".count)), n >= 1, n <= 1_000_000
      else { return nil }
      return RestartPolicySpec(mode: "on-failure", maxRetries: n)
    }
  }

  /// The policy of `--restart`; nil without the flag or with `no`.
  static func restart(_ call: Call) throws -> RestartPolicySpec? {
    guard let text = try call.string("restart") else { return nil }
    guard let policy = restartPolicy(text) else {
      throw ShellError(
        .argsValue, "`--restart \(text)`: expected no, on-failure, on-failure:N (N ≥ 1), always or unless-stopped", at: call.span)
    }
    return policy.mode == "no" ? nil : policy
  }

  /// The health check of `--health-cmd` and its options; options without `--health-cmd` are an
  /// error (they would configure nothing).
  static func health(_ call: Call) throws -> HealthCheckSpec? {
    guard let cmd = call.value("health-cmd"), !cmd.isNull else {
      if let flag = healthFlags.first(where: { call.value($0).map { !$0.isNull } ?? false }) {
        throw ShellError(.argsValue, "`--\(flag)` needs `--health-cmd`", at: call.span)
      }
      return nil
    }
    let argv: [String]
    if case .string(let text) = cmd.kind {
      argv = text.allSatisfy(\.isWhitespace) ? [] : ["/bin/sh", "-c", text]
    } else {
      argv = try cmd.listOrSelf().map { try $0.asString() }
    }
    guard let first = argv.first, !first.isEmpty else {
      throw ShellError(.argsValue, "`--health-cmd` needs a command", at: call.span)
    }
    func duration(_ flag: String, _ fallback: Int64, zeroAllowed: Bool = false) throws -> Int64 {
      let ns = try call.duration(flag) ?? fallback
      guard HealthCheckRules.accepts(ns, zeroAllowed: zeroAllowed) else {
        throw ShellError(
          .argsValue, "`--\(flag)`: expected a duration from \(zeroAllowed ? "0s" : "1ms") to 24h", at: call.span)
      }
      return ns
    }
    let retries = try call.int("health-retries") ?? Int64(HealthCheckRules.retries)
    guard HealthCheckRules.retryRange.contains(Int(clamping: retries)) else {
      throw ShellError(
        .argsValue,
        "`--health-retries \(retries)`: expected \(HealthCheckRules.retryRange.lowerBound) to \(HealthCheckRules.retryRange.upperBound)",
        at: call.span)
    }
    return HealthCheckRules.spec(
      command: argv, interval: try duration("health-interval", HealthCheckRules.interval),
      timeout: try duration("health-timeout", HealthCheckRules.timeout), retries: Int(retries),
      startPeriod: try duration("health-start-period", HealthCheckRules.startPeriod, zeroAllowed: true))
  }

  /// Puts the flags' fields in `request`, after checking the daemon applies them.
  /// `detached`: main's output will be logged by the daemon (`run -d`, `create`), which a
  /// restart needs.
  static func apply(_ request: inout InstantiateRequest, _ call: Call, _ s: DaemonSession, detached: Bool) throws {
    let restart = try restart(call)
    let health = try health(call)
    guard restart != nil || health != nil else { return }
    if restart != nil, !detached {
      throw ShellError(
        .argsConflict, "`--restart \(restart?.mode ?? "")` needs `-d`: a main started again has no client to write to",
        at: call.span, help: "run it detached (`run -d …`) and read its output with `logs`")
    }
    if restart != nil, call.has("tty") || call.has("persist") {
      throw ShellError(
        .argsConflict, "`--restart` cannot be combined with `\(call.has("tty") ? "-t" : "--persist")`", at: call.span)
    }
    let flags = (restart != nil ? ["`--restart`"] : []) + (health != nil ? ["`--health-cmd`"] : [])
    try ResourceCommands.requireSupport(flags.joined(separator: ", "), s, call)
    request.xcshRestart = restart
    request.xcshHealth = health
  }
}
