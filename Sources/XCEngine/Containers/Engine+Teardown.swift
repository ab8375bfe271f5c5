import Foundation
import Glibc

/// Giving back what a container holds: the undo of each `TeardownStep`, run for a failed
/// create, for the release after a container ends, and for a container of an earlier run at
/// the start's reconciliation — the same actions in all three.
extension Engine {
  /// Whose resources a teardown gives back.
  struct TeardownTarget {
    var record: ContainerRecord
    var bundle: String
    /// The live container (nil for one of an earlier run).
    var live: LiveContainer?
    /// After a failed create: runc may never have created the container, so its refusal to
    /// delete it is no failure, and a `no_clean` record is not kept.
    var failedCreate = false
    /// The record it ended with, to be kept among the recently ended containers.
    var final: ContainerRecord?
    /// At the start's reconciliation: the containers runc still knows (nil: ask runc).
    var runtimeIDs: Set<String>?

    var id: String { record.id }
  }

  /// Releases a live container: unwinds its rollback stack.
  func release(_ container: LiveContainer, failed: Bool, final: ContainerRecord? = nil) {
    var target = TeardownTarget(record: final ?? container.record, bundle: container.bundle, live: container)
    target.failedCreate = failed
    target.final = final
    teardown(target, steps: container.rollback.take())
  }

  /// Undoes `steps` in order. The one place that decides what a failing undo means: it is
  /// logged with the container's id, the teardown goes on with the next step, and the failed
  /// steps are kept in `<state>/teardown/<id>.json`, which the next start's reconciliation
  /// undoes again. Returns the steps that failed.
  @discardableResult
  func teardown(_ target: TeardownTarget, steps: [TeardownStep]) -> [TeardownStep] {
    var failed: [TeardownStep] = []
    var errors: [String] = []
    for step in steps {
      do { try undo(step, target) } catch {
        logger.error(
          "cannot undo \(step.rawValue) of a container: kept for the next start",
          metadata: ["id": "\(target.id)", "error": "\(error)"])
        failed.append(step)
        errors.append("\(step.rawValue): \(error)")
      }
    }
    if !failed.isEmpty {
      keepPending(
        PendingTeardown(record: target.record, steps: failed, failedCreate: target.failedCreate, errors: errors))
    }
    return failed
  }

  /// The undo of one step.
  func undo(_ step: TeardownStep, _ target: TeardownTarget) throws {
    switch step {
    case .io:
      // Every process holding the pty is gone: relay what is left, remove the socket. Likewise
      // every holder of main's log pipe: copy what is left before the directory goes.
      target.live?.takeTerminal()?.close()
      target.live?.takeMainLog()?.finish()
    case .runtime:
      if let known = target.runtimeIDs, !known.contains(target.id) { return }
      // Deleted for a restart that did not happen (a stop came during its backoff).
      if target.live?.isRuntimeGone == true { return }
      do { try runc.delete(id: target.id, force: true) } catch {
        if !target.failedCreate { throw error }
      }
    case .mounts:
      try snapshots.unmountAll(bundle: target.bundle)
    case .network:
      try networking.release(target.record)
    case .state:
      // The record and main's log are kept for the user before the directory goes.
      if let final = target.final, !target.failedCreate { kept.keep(final, bundle: target.bundle) }
      if target.record.no_clean && !target.failedCreate {
        try state.saveContainer(target.record)
      } else {
        try state.deleteContainer(id: target.id)
        try snapshots.remove(bundle: target.bundle)
      }
    case .forget:
      // The `.state` step has kept the final record: from here `lookup` finds it there.
      lock.withLock { _ = live.removeValue(forKey: target.id) }
    }
  }

  /// Writes a teardown that did not complete where the next start finds it.
  private func keepPending(_ pending: PendingTeardown) {
    do {
      try FileSystem.makeDirectories(layout.teardown, mode: 0o700)
      try FileSystem.writeAtomically(
        layout.pendingTeardown(pending.record.id), Array(try StateStore.encode(pending).utf8))
    } catch {
      logger.error(
        "cannot keep an incomplete teardown for the next start",
        metadata: ["id": "\(pending.record.id)", "steps": "\(pending.steps.map(\.rawValue))", "error": "\(error)"])
    }
  }

  /// The teardowns an earlier run left incomplete.
  func pendingTeardowns() -> [PendingTeardown] {
    FileSystem.list(layout.teardown).compactMap { name in
      let path = layout.teardown + "/" + name
      do {
        return try StateStore.decode(PendingTeardown.self, try FileSystem.readString(path))
      } catch {
        logger.error("unreadable pending teardown", metadata: ["path": "\(path)", "error": "\(error)"])
        return nil
      }
    }
  }
}
