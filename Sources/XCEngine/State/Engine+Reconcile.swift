import Foundation
import Glibc

extension Engine {
  /// Brings the state directory back to a clean state after an earlier run, crashed or not:
  /// containers of that run are not re-adopted (their init is no longer our child, so their
  /// exit status could not be learned). Each is torn down with the same undo actions as a
  /// container that ends (runc state, mounts, network, record and directory; records kept
  /// only for `no_clean` ones), as is each teardown that run left incomplete. Then whatever
  /// no record accounts for is swept: runc containers, mounts, veths, leases, directories.
  func reconcile() throws {
    // Unknown (runc failing): each teardown then asks runc itself rather than skip the step.
    let runtimeIDs: Set<String>?
    do { runtimeIDs = Set(try runc.list()) } catch {
      logger.error("cannot list runc's containers", metadata: ["error": "\(error)"])
      runtimeIDs = nil
    }
    let leftover: [TeardownStep] = [.runtime, .mounts, .network, .state]
    for pending in pendingTeardowns() {
      logger.warning(
        "finishing a teardown the last run left incomplete",
        metadata: ["id": "\(pending.record.id)", "steps": "\(pending.steps.map(\.rawValue))",
                   "errors": "\(pending.errors)"])
      var target = TeardownTarget(record: pending.record, bundle: layout.container(pending.record.id))
      target.runtimeIDs = runtimeIDs
      target.failedCreate = pending.failedCreate
      // Every step again, not only those that failed: a directory that could not be removed
      // usually held a mount. Its file goes first: a step failing again writes it anew.
      unlink(layout.pendingTeardown(pending.record.id))
      teardown(target, steps: leftover)
    }
    var kept = Set<String>()
    let records = try state.containers()
    for var record in records {
      if record.no_clean {
        if record.status != .exited {
          record.status = .exited
          record.pid = nil
          record.finished_at = record.finished_at ?? Self.nowNanos()
          record.fault = record.fault ?? "the engine restarted while the container ran"
        }
        kept.insert(record.id)
      }
      var target = TeardownTarget(record: record, bundle: layout.container(record.id))
      target.runtimeIDs = runtimeIDs
      teardown(target, steps: leftover)
    }
    for id in (runtimeIDs ?? []).subtracting(records.map(\.id)) {
      do { try runc.delete(id: id, force: true) } catch {
        logger.warning("cannot delete leftover runc container", metadata: ["id": "\(id)", "error": "\(error)"])
      }
    }
    // Mounts *below* the state directory only: the directory itself may be a filesystem of
    // its own (a dedicated disk, a tmpfs), which holds the state just opened.
    for point in Mount.mountPoints(under: layout.root) where point != layout.root {
      do { try Mount.unmountForcing(point) } catch {
        logger.error("cannot unmount leftover mount", metadata: ["path": "\(point)", "error": "\(error)"])
      }
    }
    networking.reconcile()
    // A directory that cannot be removed (a mount that would not go) is reported, not fatal:
    // removeTree never deletes through a mount, and the daemon can still serve images.
    for path in FileSystem.list(layout.containers).filter({ !kept.contains($0) }).map(layout.container)
      + FileSystem.list(layout.tmp).map({ layout.tmp + "/" + $0 })
    {
      do { try FileSystem.removeTree(path) } catch {
        logger.error("cannot remove leftover", metadata: ["path": "\(path)", "error": "\(error)"])
      }
    }
  }

  /// Stops every container (SIGTERM, `grace`, then SIGKILL), waits until each is released,
  /// and refuses further work. Images and `no_clean` records stay for the next run; the state
  /// directory is unlocked for the next engine.
  public func shutdown(grace: Duration = .seconds(10)) {
    defer {
      markCleanStop()
      _ = flock(lockFD, LOCK_UN)
    }
    lock.lock()
    closed = true
    let containers = Array(live.values)
    lock.unlock()
    // A shutdown ends containers for good: no restart policy applies (docs/engine.md).
    for c in containers {
      c.requestStop()
      signal(c.id, SIGTERM, why: "the engine is shutting down")
    }
    let deadline = Date().addingTimeInterval(Self.seconds(grace))
    for c in containers where !c.waitFinished(until: deadline) {
      signal(c.id, SIGKILL, why: "it outlived the shutdown's grace")
    }
    for c in containers {
      if !c.waitFinished(until: Date().addingTimeInterval(30)) {
        logger.error("container did not end after SIGKILL", metadata: ["id": "\(c.id)"])
      }
    }
    portRedirects.removeTable()
    networking.removeDefaultBridge()
  }
}
