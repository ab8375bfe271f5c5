import Yams

/// What a service says about restarting and health (`restart:`, `healthcheck:`, and
/// `depends_on`'s `condition: service_healthy`).
///
/// The one place these keys are decided: today `run` has no `--restart` or `--health-cmd`, so
/// each is refused with "not supported yet" at its FILE:LINE:COL. Once `run` has the flags,
/// `apply` stores the values here and `StackPlan.request` (marked there) passes them on.
struct ComposeLifecycle: Sendable, Equatable {
  /// `no`, `always`, `on-failure[:N]`, `unless-stopped`.
  var restart: String?
  /// `healthcheck.test` as argv, with `interval`, `timeout`, `retries` as written.
  var healthTest: [String]?
  var healthInterval: String?
  var healthTimeout: String?
  var healthRetries: Int?
}

enum ComposeLifecycleKeys {
  /// The service keys handled here.
  static let serviceKeys: Set<String> = ["restart", "healthcheck"]

  /// Checks the value of `key` (one of `serviceKeys`) and records it in `lifecycle`; until
  /// `run` can carry it, refuses it as not supported yet.
  static func apply(
    _ key: String, _ value: Node, at: ComposePosition, to lifecycle: inout ComposeLifecycle
  ) throws(ComposeError) {
    switch key {
    case "restart":
      throw ComposeError(
        kind: .unsupported, at: at,
        message: "`restart:` is not supported yet (xcsh's `run` has no `--restart` flag yet); remove it to run the stack without a restart policy")
    default:
      throw ComposeError(
        kind: .unsupported, at: at,
        message: "`healthcheck:` is not supported yet (xcsh's `run` has no `--health-cmd` flag yet); remove it to run the stack without health checks")
    }
  }

  /// `depends_on: {svc: {condition: service_healthy}}`, which needs health checks.
  static func healthyCondition(at: ComposePosition) throws(ComposeError) {
    throw ComposeError(
      kind: .unsupported, at: at,
      message: "`condition: service_healthy` is not supported yet (health checks are not); use `service_started`")
  }
}
