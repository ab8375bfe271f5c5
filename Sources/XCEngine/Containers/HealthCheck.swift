import Foundation

/// A health check (Docker's `HEALTHCHECK`): `command` run inside the container every
/// `interval`; a run that exits 0 within `timeout` passes. After `retries` failures in a row
/// the container is `unhealthy`; failures during `start_period` (from main's start) do not
/// count, a pass always does.
public struct HealthCheck: Codable, Sendable, Equatable {
  /// argv, run as an exec in the container (xcsh sends `/bin/sh -c CMD` for `--health-cmd`).
  public var command: [String]
  public var interval_ms: Int
  public var timeout_ms: Int
  public var retries: Int
  public var start_period_ms: Int

  /// Checks the values from the wire, naming the field and the xcsh flag that sets it.
  public init(command: [String], intervalMs: Int, timeoutMs: Int, retries: Int, startPeriodMs: Int) throws {
    func bad(_ what: String) -> EngineError { EngineError(.badRequest, what, errno: .invalidArgument) }
    guard let first = command.first, !first.isEmpty else {
      throw bad("xcsh_health: command (xcsh: --health-cmd) is empty")
    }
    guard (1...86_400_000).contains(intervalMs) else {
      throw bad("xcsh_health: interval_ms (xcsh: --health-interval) must be 1 ms to 24 h, found \(intervalMs)")
    }
    guard (1...86_400_000).contains(timeoutMs) else {
      throw bad("xcsh_health: timeout_ms (xcsh: --health-timeout) must be 1 ms to 24 h, found \(timeoutMs)")
    }
    guard (1...1000).contains(retries) else {
      throw bad("xcsh_health: retries (xcsh: --health-retries) must be 1 to 1000, found \(retries)")
    }
    guard (0...86_400_000).contains(startPeriodMs) else {
      throw bad("xcsh_health: start_period_ms (xcsh: --health-start-period) must be 0 to 24 h, found \(startPeriodMs)")
    }
    self.command = command
    self.interval_ms = intervalMs
    self.timeout_ms = timeoutMs
    self.retries = retries
    self.start_period_ms = startPeriodMs
  }
}

/// Where a container's health stands: `starting` until the first pass (or until `retries`
/// failures after the start period), then `healthy` or `unhealthy`.
public struct HealthState: Codable, Sendable, Equatable {
  public enum Status: String, Codable, Sendable {
    case starting, healthy, unhealthy
  }

  public var status: Status = .starting
  /// Failures in a row that counted.
  public var failing_streak = 0
  /// The last check's output (stdout and stderr, at most `outputLimit` bytes) and exit code
  /// (nil when it timed out or could not run).
  public var last_output: String?
  public var last_exit_code: Int32?
  /// When the last check ended, nanoseconds since the epoch.
  public var last_check_at: Int64?

  public static let outputLimit = 4096

  public init() {}

  /// The state after one check: `passed`, and whether it ran inside the start period.
  public func after(passed: Bool, inStartPeriod: Bool, retries: Int) -> HealthState {
    var next = self
    if passed {
      next.status = .healthy
      next.failing_streak = 0
    } else if !inStartPeriod {
      next.failing_streak += 1
      if next.failing_streak >= retries { next.status = .unhealthy }
    }
    return next
  }
}
