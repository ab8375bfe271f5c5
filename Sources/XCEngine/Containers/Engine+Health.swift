import CSupport
import Foundation
import Glibc
import SystemPackage
import XCSystem

/// Health checks: a thread per container with a check runs it as an exec every interval
/// while main runs, and keeps the outcome in the record's `health` (see `HealthState`).
extension Engine {
  /// Starts the checks of a container whose first run of main has just started; the thread
  /// ends with the container. Later runs (restarts) reset `health` and are checked by the same
  /// thread.
  func startHealthChecks(_ container: LiveContainer) {
    guard let check = container.record.health_check else { return }
    let interval = Double(check.interval_ms) / 1000
    Thread.detachNewThread { [self] in
      // The schedule of the checks, not a synchronisation: the wait ends at once when the
      // container does.
      while !container.waitFinished(until: Date().addingTimeInterval(interval)) {
        let before = container.record
        guard before.status == .running, before.restarting != true, let started = before.started else { continue }
        let result = runCheck(container, check)
        let now = Self.nowNanos()
        container.update {
          // A restart meanwhile reset the state; this result belongs to the run before.
          guard $0.started == started, var health = $0.health else { return }
          let inStartPeriod = health.status == .starting && now - started < Int64(check.start_period_ms) * 1_000_000
          health = health.after(passed: result.exitCode == 0, inStartPeriod: inStartPeriod, retries: check.retries)
          health.last_exit_code = result.exitCode
          health.last_output = result.output
          health.last_check_at = now
          $0.health = health
        }
      }
    }
  }

  /// Runs the check once: its exit code (nil when it timed out or could not be run) and its
  /// output, stdout and stderr together, at most `HealthState.outputLimit` bytes.
  func runCheck(_ container: LiveContainer, _ check: HealthCheck) -> (exitCode: Int32?, output: String) {
    let outPath = container.bundle + "/health.out"
    let out = open(outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard out >= 0 else { return (nil, "cannot open \(outPath): \(String(cString: strerror(errno)))") }
    defer { unlink(outPath) }
    let notify: EventFD
    do { notify = try EventFD.create() } catch {
      closeQuietly(out)
      return (nil, "cannot create an eventfd: \(error)")
    }
    defer { try? notify.close() }
    var spec = ExecSpec(arg0: check.command[0], args: Array(check.command.dropFirst()))
    // As main runs (Docker runs the check as the container's user).
    spec.envs = container.record.main_proto?.envs ?? [:]
    spec.user = container.record.main_proto?.user
    spec.group = container.record.main_proto?.group
    spec.stdout = FileDescriptor(rawValue: out)
    spec.stderr = FileDescriptor(rawValue: out)
    spec.notify = notify.fileDescriptor
    let info: SpawnInfo
    do {
      info = try exec(container.id, spec)
      closeQuietly(out)
    } catch {
      closeQuietly(out)
      return (nil, "the check could not be run: \(error)")
    }
    var timedOut = false
    if (try? notify.waitReadable(milliseconds: Int32(clamping: check.timeout_ms))) != true {
      timedOut = true
      _ = Glibc.kill(info.pid, SIGKILL)
    }
    let status = (try? notify.read()).flatMap(ProcessNotification.decodeExit)
    // The check is not one of the container's processes to show.
    container.update { record in
      for (key, p) in record.processes where key != "main" && p.pid == info.pid { record.processes[key] = nil }
    }
    var output = (try? FileSystem.readString(outPath)) ?? ""
    if output.utf8.count > HealthState.outputLimit {
      output = String(decoding: Array(output.utf8.prefix(HealthState.outputLimit)), as: UTF8.self)
    }
    if timedOut { return (nil, output + "health check timed out after \(check.timeout_ms) ms") }
    return (status?.exitCode, output)
  }
}
