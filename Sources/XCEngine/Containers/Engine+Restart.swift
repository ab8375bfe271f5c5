import CSupport
import Foundation
import Glibc
import SystemPackage
import XCSystem

/// Starting main again in the same container: by its restart policy when main ends, or on a
/// client's `restart`. The container keeps its id, name, rootfs (with what main wrote to it),
/// addresses, port redirections, volumes and main log; only runc's container (main's process
/// tree and namespaces other than the network one) is made anew from the same bundle.
extension Engine {
  /// The delay before main is started again after ending with `status`, or nil when the
  /// container ends for good: a stop or kill was asked for, the engine is closing, main never
  /// ran, or neither the policy nor a `restart` asks for it. `counted` says whether the
  /// restart counts against the policy (a `restart` does not).
  func restartDecision(_ container: LiveContainer, status: Int32, ranFor: Duration) -> (delay: Duration, counted: Bool)? {
    guard container.restartable, !container.isStopRequested, !isClosed else { return nil }
    let record = container.record
    guard record.started != nil else { return nil }
    if container.takeRestartRequest() { return (.zero, false) }
    guard let policy = record.restart, policy.restarts(after: status, restarts: record.restart_count ?? 0) else {
      return nil
    }
    let (delay, after) = container.backoff.next(ranFor: ranFor)
    container.backoff = after
    return (delay, true)
  }

  /// Starts main again after `delay`, once it ended with `status`. False when it could not be
  /// (a stop came during the delay, or runc failed before main's process existed): the caller
  /// then ends the container as if no restart had been asked for. True once a new run is under
  /// way; a run that fails to start is ended by its own monitor.
  func relaunch(_ container: LiveContainer, after status: Int32, delay: Duration, counted: Bool) -> Bool {
    let endedAt = Self.nowNanos()
    container.update {
      if $0.processes["main"]?.exited == nil {
        $0.processes["main"]?.exited = endedAt / 1_000_000_000
        $0.processes["main"]?.exit_code = status
      }
      $0.last_exit_status = status
      $0.exit_status = status
      $0.pid = nil
      $0.restarting = true
      if counted { $0.restart_count = ($0.restart_count ?? 0) + 1 }
    }
    // runc's record of the ended run goes; what it ran on (rootfs, network, log) stays.
    do { try runtime.runc.delete(id: container.id, force: true) } catch {
      logger.error("cannot delete the ended run to restart it", metadata: ["id": "\(container.id)", "error": "\(error)"])
      return false
    }
    container.setRuntimeGone(true)
    if container.waitStopRequested(until: Date().addingTimeInterval(Self.seconds(delay))) || isClosed { return false }
    guard container.beginRestart() else { return false }
    var pid: pid_t?
    do {
      let writers = container.mainLogWriters
      let stdio = try Self.openStdio(
        nil, writers.stdout.map { FileDescriptor(rawValue: $0) }, writers.stderr.map { FileDescriptor(rawValue: $0) })
      defer { [stdio.0, stdio.1, stdio.2].forEach(closeQuietly) }
      let newPid = try runtime.create(container, stdio: stdio, consoleSocket: nil)
      pid = newPid
      container.setRuntimeGone(false)
      container.update {
        $0.pid = newPid
        if let main = $0.main_proto {
          let logs = ($0.processes["main"]?.stdout_log_file, $0.processes["main"]?.stderr_log_file)
          $0.processes["main"] = ProcessStat(pid: newPid, exec: main)
          $0.processes["main"]?.stdout_log_file = logs.0
          $0.processes["main"]?.stderr_log_file = logs.1
        }
        if $0.health_check != nil { $0.health = HealthState() }
      }
      // Before `start`: from here the new run's monitor ends the container if it fails.
      monitor(container, pid: newPid)
      try runtime.start(container)
    } catch {
      logger.error("cannot restart main", metadata: ["id": "\(container.id)", "error": "\(error)"])
      container.endStart { $0.fault = "restart: \(error)" }
      guard pid != nil else { return false }
      signal(container.id, SIGKILL, why: "its main could not be restarted")
      return true
    }
    let startedAt = Self.nowNanos()
    let record = container.endStart {
      $0.status = .running
      $0.restarting = nil
      $0.fault = nil
      $0.exit_status = nil
      $0.started = startedAt
      $0.finished_at = nil
      $0.processes["main"]?.started = startedAt / 1_000_000_000
    }
    container.countRun()
    do { try state.saveContainer(record) } catch {
      logger.error("cannot save container", metadata: ["id": "\(container.id)", "error": "\(error)"])
    }
    logger.info(
      "restarted main", metadata: ["id": "\(container.id)", "count": "\(record.restart_count ?? 0)", "after": "\(delay)"])
    return true
  }

  /// Stops main (SIGTERM, up to `grace`, then SIGKILL) and starts it again in the same
  /// container (`xcsh.restart`); returns once the new run has started. Refused for a container
  /// whose main cannot be started again (see `LiveContainer.restartable`).
  public func restart(_ name: String, grace: Duration = .seconds(10)) throws {
    try checkOpen()
    let container = try find(name)
    guard container.restartable else {
      throw EngineError(
        .badRequest,
        "container \(name) cannot be restarted: its main's output goes to the client that ran it, or it has a terminal or persist",
        help: "only a detached container (xcsh: run -d) without -t or --persist can be restarted; run it again instead",
        errno: .invalidArgument)
    }
    guard container.record.status == .running || container.record.restarting == true else {
      throw EngineError(
        .notRunning, "container \(name) is not running (its main has not started)",
        help: "start it with run-main", errno: .invalidArgument)
    }
    let runs = container.requestRestart()
    // Main may have ended meanwhile (runc then has nothing to signal and the restart goes on),
    // so a failure is logged, not thrown; the wait below decides the answer.
    func signalMain(_ signal: Int32) {
      do { try kill(container.id, signal: signal, stopping: false) } catch {
        logger.warning("cannot signal main to restart it", metadata: ["id": "\(container.id)", "signal": "\(signal)", "error": "\(error)"])
      }
    }
    signalMain(SIGTERM)
    let deadline = Date().addingTimeInterval(Self.seconds(grace))
    if container.waitRun(after: runs, until: deadline) { return }
    if !container.isFinished { signalMain(SIGKILL) }
    guard container.waitRun(after: runs, until: Date().addingTimeInterval(30)) else {
      throw EngineError(
        .runtimeFailed, "container \(name) did not start again", help: "see its fault with show, and its log",
        errno: .ioError)
    }
  }
}
