import CSupport
import Foundation
import Glibc
import Logging
import SystemPackage
import XCSystem

/// The container runtime: runc with a private `--root`, xc-init as each container's PID 1
/// (reporting main's start and exit on a status pipe), and the threads that wait for init and
/// for exec'd processes. Its state is per container, in the `LiveContainer` (descriptors, the
/// status reader, the start in progress), plus runc's own under its root.
final class ContainerRuntime: Sendable {
  let runc: Runc
  /// The state dir's copy of xc-init, when there is one; without it main is PID 1.
  let initBinary: String?
  let logger: Logger

  /// Where xc-init appears inside containers.
  static let initPath = "/.xc-init"

  init(runc: Runc, initBinary: String?, logger: Logger) {
    self.runc = runc
    self.initBinary = initBinary
    self.logger = logger
  }

  /// Makes xc-init the container's PID 1, running `process` as its child (see
  /// Sources/xc-init/main.c), and bind-mounts it; nothing without xc-init. With `persist`
  /// (xc's: the container outlives main until killed) xc-init stays after its last child, until
  /// a stop signal; without xc-init that cannot be done, and is refused.
  /// xc-init's first argument for a persistent container (no program is named so).
  static let persistFlag = "--xc-persist"

  func wrapForInit(_ process: inout RuntimeSpec.Process, mounts: inout [RuntimeSpec.Mount], persist: Bool) throws {
    guard let initBinary else {
      if persist {
        throw EngineError(
          .unsupported, "persist (xcsh: --persist) needs xc-init, which this xcd was started without",
          help: "build xc-init beside xcd (swift build --product xc-init)", errno: .notSupported)
      }
      return
    }
    process.args = [Self.initPath] + (persist ? [Self.persistFlag] : []) + process.args
    mounts.append(
      RuntimeSpec.Mount(
        destination: Self.initPath, type: "bind", source: initBinary,
        options: ["bind", "ro", "nosuid", "nodev"]))
  }

  /// `runc create`: init starts, inheriting `stdio`, and waits for `start`. With `start`, `runc
  /// run --detach` instead: init is started by the same runc process (then `awaitStarted`, not
  /// `start`). With xc-init, the container keeps the read end of init's status pipe. Returns
  /// init's host pid.
  func create(
    _ container: LiveContainer, stdio: (CInt, CInt, CInt), consoleSocket: String?, start: Bool = false
  ) throws -> pid_t {
    var statusPipe: [CInt] = [-1, -1]
    if initBinary != nil {
      try sysCall("pipe") { cs_pipe_cloexec(&statusPipe) }
      container.setStatusReader(statusPipe[0])
    }
    do {
      let statusFD = initBinary == nil ? nil : statusPipe[1]
      let pid =
        start
        ? try runc.run(
          id: container.id, bundle: container.bundle, stdio: stdio, statusFD: statusFD, consoleSocket: consoleSocket,
          phases: container.phases)
        : try runc.create(
          id: container.id, bundle: container.bundle, stdio: stdio, statusFD: statusFD, consoleSocket: consoleSocket,
          phases: container.phases)
      closeQuietly(statusPipe[1])  // init holds the write end now: EOF = init exited
      return pid
    } catch {
      closeQuietly(statusPipe[1])
      container.closeStatusReader()
      throw error
    }
  }

  /// `runc start`, then (with xc-init) its report of whether main could be executed.
  func start(_ container: LiveContainer) throws {
    try runc.start(id: container.id, bundle: container.bundle)
    container.phases.mark("runc_start")
    try awaitStarted(container)
  }

  /// After `runc start` or `runc run`: xc-init's report of whether main could be executed
  /// (nothing to wait for without xc-init: runc has exec'd main itself).
  func awaitStarted(_ container: LiveContainer) throws {
    if let reader = container.statusFD {
      try awaitMainExec(container, reader)
    }
  }

  /// xc-init's first report says whether main could be executed; later ones (main's exit)
  /// are read by a thread that writes `main_exited_fd` as soon as main exits, while the
  /// container may live on (its other processes).
  private func awaitMainExec(_ container: LiveContainer, _ reader: CInt) throws {
    let arg0 = container.record.main_proto?.arg0 ?? "main"
    guard let first = Self.readLine(reader) else {
      throw EngineError(.runtimeFailed, "the container ended before \(arg0) started", errno: .ioError)
    }
    if first.hasPrefix("F "), let code = Int32(first.dropFirst(2)) {
      throw EngineError(
        .runtimeFailed, "cannot execute \(arg0) in the container", errno: .noSuchFileOrDirectory,
        detail: "exec \(arg0): \(String(cString: strerror(code)))")
    }
    container.setReaderActive(true)
    Thread.detachNewThread { [self] in
      while let line = Self.readLine(reader) {
        guard line.hasPrefix("S "), let status = Int32(line.dropFirst(2)) else { continue }
        container.phases.mark("main_exit")
        container.setMainStatus(status)
        container.update {
          $0.processes["main"]?.exited = Engine.nowNanos() / 1_000_000_000
          $0.processes["main"]?.exit_code = status
        }
        if let fd = container.takeExitNotify() {
          notify(fd, ProcessNotification.encodeExit(WaitStatus(rawValue: status)), what: "main_exited_fd", id: container.id)
          closeQuietly(fd)
          container.phases.mark("notified")
        }
      }
      container.setReaderActive(false)
    }
  }

  /// One line from `fd`, read a byte at a time (the lines are a few bytes), or nil at EOF.
  static func readLine(_ fd: CInt) -> String? {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while true {
      let n = (try? withUnsafeMutableBytes(of: &byte) { try readSome(fd, into: $0) }) ?? 0
      if n == 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
      if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(byte)
    }
  }

  /// Waits for init on its own thread: it is our child (we are the subreaper), so waitpid
  /// returns its exact wait status. Once any start has settled and main's status reports are
  /// read, calls `ended` with main's status (init's, when xc-init reported none).
  func monitor(_ container: LiveContainer, pid: pid_t, ended: @escaping @Sendable (Int32) -> Void) {
    Thread.detachNewThread { [self] in
      let status: Int32
      do { status = try Subprocess.wait(pid) } catch {
        logger.error("cannot wait for container init", metadata: ["id": "\(container.id)", "error": "\(error)"])
        status = 0
      }
      container.phases.mark("init_exit")
      container.waitStartSettled()
      // With xc-init, main's own status came through the status pipe (read to its end once
      // init has exited); without a report (init was killed), init's status stands for it.
      container.waitReaderIdle()
      container.closeStatusReader()
      ended(container.mainStatus ?? status)
    }
  }

  /// Starts `process` (written to `processFile`) in the container with `runc exec`; with a
  /// tty its pty is served at `terminalPath`. A thread waits for it, records its exit and
  /// writes `notify` (owned from here on). Returns its pid and terminal.
  func exec(
    _ container: LiveContainer, execID: String, processFile: String, stdio: (CInt, CInt, CInt),
    tty: Bool, notify: CInt?, exec resolved: Jexec, output: ExecOutput = ExecOutput()
  ) throws -> SpawnInfo {
    let pidFile = container.bundle + "/exec-\(execID).pid"
    let log = container.bundle + "/exec-\(execID).log"
    defer { for path in [pidFile, log] { unlink(path) } }
    let consolePath = container.bundle + "/console-\(execID).sock"
    let pid: pid_t
    var terminal: TerminalRelay?
    do {
      let console = tty ? try TerminalRelay.listen(at: consolePath) : -1
      defer {
        closeQuietly(console)
        if console >= 0 { unlink(consolePath) }
      }
      pid = try runc.exec(
        id: container.id, processFile: processFile, pidFile: pidFile, log: log, stdio: stdio,
        consoleSocket: tty ? consolePath : nil)
      if tty {
        do {
          terminal = try TerminalRelay(
            master: try TerminalRelay.receiveMaster(console),
            path: container.bundle + "/xc.\(container.id).\(execID)", log: output.log)
        } catch {
          Glibc.kill(pid, SIGKILL)
          do { _ = try Subprocess.wait(pid) } catch let wait {
            logger.warning("cannot wait for a killed exec", metadata: ["id": "\(container.id)", "error": "\(wait)"])
          }
          throw error
        }
      }
    } catch {
      closeQuietly(notify ?? -1)
      output.finish()
      throw error
    }
    container.update {
      $0.processes[execID] = ProcessStat(pid: pid, started: Engine.nowNanos() / 1_000_000_000, exec: resolved)
      $0.processes[execID]?.terminal_socket = terminal?.path
      $0.processes[execID]?.stdout_log_file = output.paths.stdout
      $0.processes[execID]?.stderr_log_file = output.paths.stderr
    }
    if let terminal { container.setExecTerminal(execID, terminal) }
    Thread.detachNewThread { [self, terminal] in
      let status: Int32
      do { status = try Subprocess.wait(pid) } catch {
        logger.error("cannot wait for an exec", metadata: ["id": "\(container.id)", "error": "\(error)"])
        status = 0
      }
      // Relay what the pty still holds, close the clients, remove the socket; copy what the
      // log's pipes still hold (before the exit is notified: a waiter then reads it all).
      container.setExecTerminal(execID, nil)
      terminal?.close()
      output.finish()
      container.update {
        $0.processes[execID]?.exited = Engine.nowNanos() / 1_000_000_000
        $0.processes[execID]?.exit_code = status
      }
      if let notify {
        self.notify(notify, ProcessNotification.encodeExit(WaitStatus(rawValue: status)), what: "exec notify", id: container.id)
        closeQuietly(notify)
      }
    }
    return SpawnInfo(pid: pid, terminal_socket: terminal?.path)
  }

  /// Signals the container's init; a failure is logged with the container's id (it may
  /// have ended meanwhile, which its monitor handles).
  func signal(_ id: String, _ signal: Int32, why: String) {
    do { try runc.kill(id: id, signal: signal) } catch {
      logger.warning(
        "cannot signal a container", metadata: ["id": "\(id)", "signal": "\(signal)", "why": "\(why)", "error": "\(error)"])
    }
  }

  /// Writes `value` to a client's eventfd; a failure (the client closed it) is logged.
  func notify(_ fd: CInt, _ value: UInt64, what: String, id: String) {
    do { try EventFD(rawValue: fd).write(value) } catch {
      logger.warning("cannot notify the client", metadata: ["id": "\(id)", "what": "\(what)", "error": "\(error)"])
    }
  }
}
