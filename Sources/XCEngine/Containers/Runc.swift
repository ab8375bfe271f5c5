import Foundation
import Glibc
import XCSystem

/// runc, run by argv with a private `--root`, so this engine's containers are its own.
struct Runc: Sendable {
  let binary: String
  let root: String

  private func base(log: String? = nil) -> [String] {
    var argv = [binary, "--root", root]
    if let log { argv += ["--log", log, "--log-format", "json"] }
    return argv
  }

  /// Creates container `id` from `bundle`; its init inherits `stdio` as fds 0, 1, 2 and waits
  /// for `start`. Returns init's host pid.
  /// With `statusFD`, it becomes init's fd 3 (`--preserve-fds 1`). With `consoleSocket`
  /// (a listening UNIX socket; the spec has `terminal: true`), runc sends the pty master there.
  func create(
    id: String, bundle: String, stdio: (CInt, CInt, CInt), statusFD: CInt? = nil,
    consoleSocket: String? = nil, phases: StartPhases? = nil
  ) throws -> pid_t {
    try launch(
      "create", id: id, bundle: bundle, stdio: stdio, statusFD: statusFD, consoleSocket: consoleSocket, phases: phases)
  }

  /// `runc create` or `runc run --detach` (`command`), with init's stdio, status fd and console.
  private func launch(
    _ command: String, id: String, bundle: String, stdio: (CInt, CInt, CInt), statusFD: CInt?,
    consoleSocket: String?, phases: StartPhases?
  ) throws -> pid_t {
    let pidFile = bundle + "/init.pid"
    let log = bundle + "/runc.log"
    var options = command == "run" ? ["--detach"] : []
    options += statusFD == nil ? [] : ["--preserve-fds", "1"]
    if let consoleSocket { options += ["--console-socket", consoleSocket] }
    try runWithStdio(
      base(log: log) + [command, "--bundle", bundle, "--pid-file", pidFile] + options + [id], stdio: stdio,
      extra: statusFD.map { [$0] } ?? [], log: log, what: "create container", phases: phases)
    defer { phases?.mark("pid_file") }
    return try readPid(pidFile)
  }

  /// `runc run --detach`: creates container `id` from `bundle` and starts it in one runc
  /// process (one Go process per start instead of `create` and `start`); otherwise as `create`.
  /// Returns init's host pid once init has been started.
  func run(
    id: String, bundle: String, stdio: (CInt, CInt, CInt), statusFD: CInt? = nil,
    consoleSocket: String? = nil, phases: StartPhases? = nil
  ) throws -> pid_t {
    try launch(
      "run", id: id, bundle: bundle, stdio: stdio, statusFD: statusFD, consoleSocket: consoleSocket, phases: phases)
  }

  func start(id: String, bundle: String) throws {
    let log = bundle + "/runc.log"
    try runCaptured(base(log: log) + ["start", id], log: log, what: "start container")
  }

  /// Starts the process described by `processFile` in container `id`, detached, with
  /// `stdio` as its fds 0, 1, 2. Returns its host pid.
  /// With `consoleSocket`, runc sends the process's pty master there.
  func exec(
    id: String, processFile: String, pidFile: String, log: String, stdio: (CInt, CInt, CInt),
    consoleSocket: String? = nil
  ) throws -> pid_t {
    let console = consoleSocket.map { ["--console-socket", $0] } ?? []
    try runWithStdio(
      base(log: log) + ["exec", "--detach", "--pid-file", pidFile, "--process", processFile] + console + [id],
      stdio: stdio, log: log, what: "exec in container")
    return try readPid(pidFile)
  }

  func kill(id: String, signal: Int32) throws {
    try runCaptured(base() + ["kill", id, String(signal)], log: nil, what: "signal container")
  }

  /// Deletes runc's state of `id`; with `force`, kills a container still running.
  func delete(id: String, force: Bool) throws {
    try runCaptured(base() + ["delete"] + (force ? ["--force"] : []) + [id], log: nil, what: "delete container")
  }

  /// The ids of the containers in this runc root.
  func list() throws -> [String] {
    let out = try Subprocess.run(base() + ["list", "--quiet"])
    guard out.exitedNormally else { throw failure("list containers", out.stderrText) }
    return String(decoding: out.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
  }

  // MARK: -

  private func runWithStdio(
    _ argv: [String], stdio: (CInt, CInt, CInt), extra: [CInt] = [], log: String, what: String,
    phases: StartPhases? = nil
  ) throws {
    unlink(log)
    let pid = try Subprocess.spawn(argv, stdin: stdio.0, stdout: stdio.1, stderr: stdio.2, extra: extra)
    phases?.mark("spawn")  // posix_spawn returns once the child has exec'd (vfork)
    let status = try Subprocess.wait(pid)
    phases?.mark("runc")
    guard WaitStatus(rawValue: status).exitCode == 0 else {
      throw failure(what, Self.errors(inLog: log))
    }
  }

  private func runCaptured(_ argv: [String], log: String?, what: String) throws {
    let out = try Subprocess.run(argv)
    guard out.exitedNormally else {
      let logged = log.map(Self.errors(inLog:)) ?? ""
      throw failure(what, logged.isEmpty ? out.stderrText : logged)
    }
  }

  private func failure(_ what: String, _ detail: String) -> EngineError {
    EngineError(
      .runtimeFailed, "runc failed to \(what)",
      help: "the detail is runc's own message", errno: .ioError, detail: detail)
  }

  private func readPid(_ path: String) throws -> pid_t {
    let text = try FileSystem.readString(path).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let pid = pid_t(text), pid > 0 else {
      throw EngineError(.runtimeFailed, "runc wrote no pid to \(path)", errno: .ioError)
    }
    return pid
  }

  /// The error and fatal messages of a runc JSON log.
  static func errors(inLog path: String) -> String {
    guard let text = try? FileSystem.readString(path) else { return "" }
    var messages: [String] = []
    for line in text.split(separator: "\n") {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let level = object["level"] as? String, level == "error" || level == "fatal",
        let msg = object["msg"] as? String
      else { continue }
      messages.append(msg)
    }
    return messages.joined(separator: "; ")
  }
}
