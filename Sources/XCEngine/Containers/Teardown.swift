import Foundation

/// One thing a container holds that must be given back when it ends. `create` takes them in
/// the order of the cases below (top first) and pushes each one's undo as it goes; teardown
/// gives them back newest first.
enum TeardownStep: String, Codable, Sendable, CaseIterable {
  /// Its place among the engine's live containers (its kept record answers for it after).
  case forget
  /// Its record and its directory (`<state>/containers/<id>`); kept with `no_clean`.
  case state
  /// Its leases, redirections and group memberships, host aliases and veths.
  case network
  /// Everything mounted below its directory: the overlay root, the network namespace.
  case mounts
  /// runc's state for it.
  case runtime
  /// The relays of main's output: the terminal and the main log pump.
  case io
}

/// A container's rollback stack: each step of `create` pushes the undo of what it has just
/// taken, and the one stack is unwound (newest first, once) by a failed `create` and by the
/// release after the container ends. Thread-safe.
final class Rollback: @unchecked Sendable {
  private let lock = NSLock()
  private var steps: [TeardownStep] = []

  init() {}

  /// Pushes the undo of what was just taken.
  func push(_ step: TeardownStep) {
    lock.withLock { steps.append(step) }
  }

  /// The steps to undo, newest first; the stack is left empty, so teardown runs once.
  func take() -> [TeardownStep] {
    lock.withLock {
      defer { steps = [] }
      return steps.reversed()
    }
  }

  /// What is on the stack now, oldest first.
  var pending: [TeardownStep] { lock.withLock { steps } }
}

/// A teardown that did not complete: the record of the container and the steps whose undo
/// failed, kept in `<state>/teardown/<id>.json` for the next start's reconciliation to undo
/// again.
struct PendingTeardown: Codable, Sendable, Equatable {
  var record: ContainerRecord
  var steps: [TeardownStep]
  /// It was the teardown of a failed create (see `Engine.TeardownTarget.failedCreate`).
  var failedCreate: Bool
  /// What went wrong, per step, for the log of the next start.
  var errors: [String]
}
