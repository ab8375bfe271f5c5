import Foundation
import Glibc

extension Engine {
  /// Brings the state directory back to a clean state after an earlier run, crashed or not:
  /// containers of that run are not re-adopted (their init is no longer our child, so their
  /// exit status could not be learned); they are killed, their runc state deleted, every
  /// mount under the state directory removed, and records kept only for `no_clean` ones.
  func reconcile() throws {
    for id in (try? runc.list()) ?? [] {
      do { try runc.delete(id: id, force: true) } catch {
        logger.warning("cannot delete leftover runc container", metadata: ["id": "\(id)", "error": "\(error)"])
      }
    }
    for point in Mount.mountPoints(under: layout.root) {
      do { try Mount.unmountForcing(point) } catch {
        logger.error("cannot unmount leftover mount", metadata: ["path": "\(point)", "error": "\(error)"])
      }
    }
    reconcileNetworks(records: (try? state.containers()) ?? [])
    var kept = Set<String>()
    for var record in try state.containers() {
      if record.no_clean {
        if record.status != .exited {
          record.status = .exited
          record.pid = nil
          record.finished_at = record.finished_at ?? Self.nowNanos()
          record.fault = record.fault ?? "the engine restarted while the container ran"
          try state.saveContainer(record)
        }
        kept.insert(record.id)
      } else {
        try state.deleteContainer(id: record.id)
      }
    }
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
    defer { _ = flock(lockFD, LOCK_UN) }
    lock.lock()
    closed = true
    let containers = Array(live.values)
    lock.unlock()
    for c in containers { try? runc.kill(id: c.id, signal: SIGTERM) }
    let deadline = Date().addingTimeInterval(Self.seconds(grace))
    for c in containers where !c.waitFinished(until: deadline) {
      try? runc.kill(id: c.id, signal: SIGKILL)
    }
    for c in containers {
      if !c.waitFinished(until: Date().addingTimeInterval(30)) {
        logger.error("container did not end after SIGKILL", metadata: ["id": "\(c.id)"])
      }
    }
    removeRedirectTable()
  }
}
