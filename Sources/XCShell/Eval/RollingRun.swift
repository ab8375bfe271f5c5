import CSupport
import Dispatch
import Foundation

/// What became of one item of a `RollingRun`.
public enum RollingOutcome: Sendable {
  /// The closure returned this value after `seconds`.
  case done(Value, seconds: Double)
  /// The closure threw after `seconds`.
  case failed(any Error, seconds: Double)
  /// The item never started: the failure threshold was reached, or the run was interrupted.
  case notStarted
}

/// Runs a closure on items in a rolling window (at most `width` at once; the next item starts
/// as soon as one ends), each on its own forked evaluator with its own copy of the variables:
/// the engine of `fleet`. Unlike `par-each`, a failure does not cancel the others: it counts
/// towards `maxFailures`, after which no new item starts while running ones finish. An interrupt
/// (SIGINT, SIGTERM) stops new items and cancels the running ones at their next interrupt check
/// (so their defers run), and is rethrown once every worker has returned.
public enum RollingRun {
  public static func run(
    _ items: [Value], _ closure: Closure, width: Int, maxFailures: Int?,
    ambient key: String, values: [String?], call: Call
  ) throws -> [RollingOutcome] {
    precondition(values.count == items.count)
    if items.isEmpty { return [] }
    let state = RollingState(count: items.count, maxFailures: maxFailures)
    let group = DispatchGroup()
    let parent = call.evaluator
    for _ in 0..<min(max(1, width), items.count) {
      group.enter()
      let (worker, copy) = parent.worker(running: closure, cancellation: state.interrupted)
      worker.cancellationReason = "cancelled: the run was interrupted"
      let box = UncheckedBox((worker, copy, call.head))
      let thread = Thread {
        defer { group.leave() }
        let (ev, c, head) = box.value
        while let i = state.claim() {
          let start = DispatchTime.now().uptimeNanoseconds
          let seconds = { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
          do {
            let v = try ev.withAmbient(key, values[i]) { try ev.invoke(c, [items[i]], at: head) }
            state.finish(i, .done(v, seconds: seconds()))
          } catch {
            state.finish(i, .failed(error, seconds: seconds()))
          }
        }
      }
      // Workers evaluate closures as deeply as the main evaluator may recurse.
      thread.stackSize = 64 << 20
      thread.start()
    }
    group.wait()
    if let e = state.interruption { throw e }
    try parent.checkInterrupt()
    return state.outcomes
  }
}

/// Shared progress of a `RollingRun`: the next item, the outcomes, failures and interrupts.
final class RollingState: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private var failures = 0
  private let maxFailures: Int?
  private var slots: [RollingOutcome]
  /// The first interrupt a worker saw (the signal is cleared by whoever sees it first).
  private(set) var interruption: ShellError? {
    get { lock.withLock { storedInterruption } }
    set { lock.withLock { storedInterruption = newValue } }
  }
  private var storedInterruption: ShellError?
  /// Set at an interrupt: every worker stops at its next interrupt check.
  let interrupted = CancelFlag()

  init(count: Int, maxFailures: Int?) {
    self.maxFailures = maxFailures
    slots = Array(repeating: .notStarted, count: count)
  }

  func claim() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    if interrupted.isSet || next >= slots.count { return nil }
    if let m = maxFailures, failures >= m { return nil }
    defer { next += 1 }
    return next
  }

  func finish(_ i: Int, _ outcome: RollingOutcome) {
    lock.lock()
    slots[i] = outcome
    if case .failed(let e, _) = outcome {
      failures += 1
      if let s = e as? ShellError, s.code == .interrupted, storedInterruption == nil {
        storedInterruption = s
        interrupted.set()
      }
    }
    lock.unlock()
  }

  var outcomes: [RollingOutcome] { lock.withLock { slots } }
}
