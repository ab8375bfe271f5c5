import Foundation
import XCSystem

/// When the engine starts a container's main again after it ended (Docker's `--restart`):
/// `no`, `on-failure[:N]` (a non-zero exit or a death by signal, at most N times) or
/// `always`. A stop or kill asked for by a client always ends the container for good; that
/// is decided by the caller, not here.
public struct RestartPolicy: Codable, Sendable, Equatable {
  public enum Mode: String, Codable, Sendable, CaseIterable {
    case no
    case onFailure = "on-failure"
    case always
  }

  public var mode: Mode
  /// With `on-failure`: the most restarts (nil: no bound). Absent with the other modes.
  public var max_retries: Int?

  /// Checks a policy from the wire: `max_retries` only with `on-failure`, 1 or more.
  public init(mode: Mode, maxRetries: Int? = nil) throws {
    if let maxRetries {
      guard mode == .onFailure else {
        throw EngineError(
          .badRequest, "a restart count is only meaningful with on-failure, found \(mode.rawValue):\(maxRetries)",
          errno: .invalidArgument)
      }
      guard maxRetries >= 1, maxRetries <= 1_000_000 else {
        throw EngineError(.badRequest, "on-failure:\(maxRetries): the count must be 1 to 1000000", errno: .invalidArgument)
      }
    }
    self.mode = mode
    self.max_retries = maxRetries
  }

  /// Whether a main that ended with `exitStatus` (raw wait status) after `restarts` restarts
  /// is started again.
  public func restarts(after exitStatus: Int32, restarts: Int) -> Bool {
    switch mode {
    case .no: return false
    case .always: return true
    case .onFailure:
      if let max_retries, restarts >= max_retries { return false }
      let status = WaitStatus(rawValue: exitStatus)
      return status.exitCode != 0
    }
  }

  public var description: String {
    mode == .onFailure ? "on-failure" + (max_retries.map { ":\($0)" } ?? "") : mode.rawValue
  }
}

/// The delay before each restart, as Docker's: 100 ms, doubled on every restart up to one
/// minute, and back to 100 ms once a run has lasted 10 seconds (a main that stays up a while
/// is not crash-looping). A value: the engine keeps one per container.
public struct RestartBackoff: Sendable, Equatable {
  public static let initial: Duration = .milliseconds(100)
  public static let maximum: Duration = .seconds(60)
  /// A run at least this long resets the delay.
  public static let settled: Duration = .seconds(10)

  /// The delay the next restart waits (before `next` is applied).
  public private(set) var delay: Duration = RestartBackoff.initial

  public init() {}

  /// The delay before the restart of a main that ran for `ranFor`, and the backoff after it.
  public func next(ranFor: Duration) -> (delay: Duration, after: RestartBackoff) {
    let wait = ranFor >= Self.settled ? Self.initial : delay
    var after = RestartBackoff()
    after.delay = min(wait * 2, Self.maximum)
    return (wait, after)
  }
}
