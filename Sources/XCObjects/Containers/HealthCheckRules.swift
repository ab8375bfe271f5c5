import XCIPC

/// A health check's defaults and bounds (Docker's defaults), the one definition behind both
/// ways of asking for one: `run`'s `--health-*` flags (`LifecycleFlags`) and a compose
/// file's `healthcheck:` (`ComposeLifecycleKeys`). Durations are in nanoseconds, as parsed.
enum HealthCheckRules {
  static let interval: Int64 = 30_000_000_000
  static let timeout: Int64 = 30_000_000_000
  static let startPeriod: Int64 = 0
  static let retries = 3
  static let retryRange = 1...1000
  /// The longest of any of the durations.
  static let longest: Int64 = 86_400_000_000_000
  /// The shortest interval and timeout: the spec counts milliseconds (a start period may be 0).
  static let shortestPeriod: Int64 = 1_000_000

  /// Whether `ns` is a valid interval or timeout (`zeroAllowed` false) or start period.
  static func accepts(_ ns: Int64, zeroAllowed: Bool) -> Bool {
    ns >= (zeroAllowed ? 0 : shortestPeriod) && ns <= longest
  }

  /// The check with the defaults for what is not given (durations in nanoseconds).
  static func spec(
    command: [String], interval: Int64 = interval, timeout: Int64 = timeout, retries: Int = retries,
    startPeriod: Int64 = startPeriod
  ) -> HealthCheckSpec {
    HealthCheckSpec(
      command: command, intervalMs: Int(interval / 1_000_000), timeoutMs: Int(timeout / 1_000_000),
      retries: retries, startPeriodMs: Int(startPeriod / 1_000_000))
  }
}
