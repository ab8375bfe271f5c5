import Foundation
import XCSystem

/// Where an exec'd process's output is logged when the client asks for it (`ExecSpec.log`,
/// xcsh's `exec --detach`): `<bundle>/exec-<exec id>.output.log`, a record log like main's, for
/// each stream the client passed no descriptor for (all of a pty's output). Without the ask,
/// or for streams the client keeps, nothing is logged (xc sends such streams to /dev/null).
struct ExecOutput: Sendable {
  /// The log file per stream (the same file for both), as recorded in the process's stat.
  let paths: (stdout: String?, stderr: String?)
  let log: RecordLog?
  /// The pipes' pump, without a tty.
  let pump: MainLog?

  /// Nothing logged.
  init() {
    paths = (nil, nil)
    log = nil
    pump = nil
  }

  init(_ spec: ExecSpec, bundle: String, execID: String) throws {
    let path = bundle + "/exec-\(execID).output.log"
    let paths: (stdout: String?, stderr: String?) =
      !spec.log ? (nil, nil)
      : spec.use_tty ? (path, path) : (spec.stdout == nil ? path : nil, spec.stderr == nil ? path : nil)
    self.paths = paths
    (log, pump) = try MainLogs.open(paths, tty: spec.use_tty)
  }

  /// Copies what is left and closes the log (the process has been reaped).
  func finish() {
    if let pump { pump.finish() } else { log?.close() }
  }
}
