import Foundation
import Glibc

extension Engine {
  /// Where main's output is logged, per stream: `<state>/containers/<id>/main.log` for each
  /// stream the client passed no descriptor for (both with a tty, whose pty output is the
  /// log). Inside the container's directory, so the log lives exactly as long as the
  /// container (kept with `no_clean`). xc.conf's `logs_dir` is not used: it would outlive it.
  static func mainLogPaths(_ spec: ContainerSpec, bundle: String, hasMain: Bool) -> (stdout: String?, stderr: String?) {
    guard hasMain else { return (nil, nil) }
    let path = bundle + "/main.log"
    if spec.use_tty { return (path, path) }
    return (spec.stdout == nil ? path : nil, spec.stderr == nil ? path : nil)
  }

  /// The log files of a container's process (`main`, or an exec id), for xcsh's `xcsh.logs`:
  /// nil for a stream that is not logged (the client kept it). A container that has ended
  /// and been removed has no log left: that is an error, as is an unknown process.
  public func logFiles(_ name: String, process: String) throws -> (stdout: String?, stderr: String?) {
    let (record, dead) = try container(name)
    if dead && !record.no_clean {
      throw EngineError(
        .containerNotFound, "container \(name) has ended and was removed, with its log",
        help: "create it with no_clean (`--no-clean`) to keep its log after it ends", errno: ENOENT)
    }
    guard let stat = record.processes[process] else {
      let known = record.processes.keys.sorted().joined(separator: ", ")
      throw EngineError(
        .badRequest, "container \(name) has no process \(process)",
        help: known.isEmpty ? "its main process has not been created" : "its processes: \(known)", errno: ENOENT)
    }
    return (stat.stdout_log_file, stat.stderr_log_file)
  }
}
