import Foundation
import Glibc
import XCSystem

/// Main's logs: which of main's streams are logged, where, and the pump and file that keep
/// them. The state of one container's log is its `MainLog` (the pump) and `BoundedLogFile`
/// (the capped file), each with its own lock; this decides only where they go.
enum MainLogs {
  /// Where main's output is logged, per stream: `<state>/containers/<id>/main.log` for each
  /// stream the client passed no descriptor for (both with a tty, whose pty output is the
  /// log). Inside the container's directory, so the log lives exactly as long as the
  /// container (kept with `no_clean`). xc.conf's `logs_dir` is not used: it would outlive it.
  static func paths(_ spec: ContainerSpec, bundle: String, hasMain: Bool) -> (stdout: String?, stderr: String?) {
    guard hasMain else { return (nil, nil) }
    let path = bundle + "/main.log"
    if spec.use_tty { return (path, path) }
    return (spec.stdout == nil ? path : nil, spec.stderr == nil ? path : nil)
  }

  /// Opens the record log for `paths` (nil when nothing is logged) and, without a tty, the
  /// pump whose pipes stand for the logged streams (with a tty the terminal relay writes the
  /// log, all of it as stdout: a pty has one output, as in Docker).
  static func open(_ paths: (stdout: String?, stderr: String?), tty: Bool) throws -> (log: RecordLog?, pump: MainLog?) {
    let log = try (paths.stdout ?? paths.stderr).map { try RecordLog(path: $0) }
    let streams = [paths.stdout.map { _ in LogStream.stdout }, paths.stderr.map { _ in LogStream.stderr }].compactMap { $0 }
    let pump = try tty ? nil : log.map { try MainLog(log: $0, streams: streams) }
    return (log, pump)
  }

  /// The log files of process `process` (`main`, or an exec id) of a container, for xcsh's
  /// `xcsh.logs`: nil for a stream that is not logged (the client kept it). A container that
  /// has ended and been removed has no log left: that is an error, as is an unknown process.
  static func files(
    of record: ContainerRecord, dead: Bool, name: String, process: String
  ) throws -> (stdout: String?, stderr: String?) {
    let main = record.processes["main"]
    let logKept = [main?.stdout_log_file, main?.stderr_log_file].contains { $0.map(FileSystem.exists) ?? false }
    if dead && !record.no_clean && !logKept {
      throw EngineError(
        .containerNotFound, "container \(name) has ended and its log is gone",
        help: "ended containers' logs are kept for a while (xcd's keep_ended, keep_ended_seconds), or with no_clean (`--no-clean`)", errno: .noSuchFileOrDirectory)
    }
    guard let stat = record.processes[process] else {
      let known = record.processes.keys.sorted().joined(separator: ", ")
      throw EngineError(
        .badRequest, "container \(name) has no process \(process)",
        help: known.isEmpty ? "its main process has not been created" : "its processes: \(known)", errno: .noSuchFileOrDirectory)
    }
    return (stat.stdout_log_file, stat.stderr_log_file)
  }
}
