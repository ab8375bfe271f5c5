import Foundation
import Glibc

/// A container this engine instance runs: its record, the descriptors it keeps for the
/// client (the exit eventfd), and whoever waits for it to end. Thread-safe.
final class LiveContainer: @unchecked Sendable {
  let id: String
  let bundle: String
  /// What it holds, to give back when it ends (see `TeardownStep`).
  let rollback = Rollback()
  /// Timestamps of its start, when xcd traces them (`XCD_START_PHASES`).
  let phases: StartPhases
  private let condition = NSCondition()
  private var current: ContainerRecord
  private var finished = false
  private var waiters: [CheckedContinuation<ContainerRecord, Never>] = []
  private var exitNotify: CInt?
  /// True while a start runs (`runc start`, or `runc run` and xc-init's first report): main may
  /// exit before it settles, and the monitor must not decide whether main ran until it has.
  private var starting = false
  /// Read end of the pipe on which xc-init reports main's start and exit (nil without it).
  private var statusReader: CInt?
  private var readerActive = false
  /// Main's raw wait status as xc-init reported it.
  private var reportedMainStatus: Int32?
  /// Serves main's pty when it runs with a tty.
  private var terminal: TerminalRelay?
  /// The ptys of exec'd processes run with a tty, by exec id, while they run.
  private var execTerminals: [String: TerminalRelay] = [:]
  /// Copies main's output into its log file when the client kept none of it.
  private var mainLog: MainLog?
  /// A client asked for it to end (stop, kill, shutdown): main is never started again.
  private var stopRequested = false
  /// A client asked for main to be started again once it ends (`restart`).
  private var restartRequested = false
  /// How many runs of main have started (1 after the first start).
  private var runs = 0
  /// Main can be started again: its output goes to the log (no client descriptor, no tty)
  /// and it is not `persist`. Set once at create.
  private(set) var restartable = false
  /// The delay before the next restart by the policy.
  var backoff = RestartBackoff()
  /// runc's container was deleted for a restart and not made again yet.
  private var runtimeGone = false

  init(record: ContainerRecord, bundle: String, phases: StartPhases = StartPhases()) {
    id = record.id
    self.bundle = bundle
    self.phases = phases
    current = record
  }

  var record: ContainerRecord {
    condition.lock()
    defer { condition.unlock() }
    return current
  }

  var isFinished: Bool {
    condition.lock()
    defer { condition.unlock() }
    return finished
  }

  @discardableResult
  func update(_ change: (inout ContainerRecord) -> Void) -> ContainerRecord {
    condition.lock()
    defer { condition.unlock() }
    change(&current)
    return current
  }

  /// Keeps `fd` (already duplicated) to be written when main exits.
  func setExitNotify(_ fd: CInt?) {
    condition.lock()
    defer { condition.unlock() }
    exitNotify = fd
  }

  func takeExitNotify() -> CInt? {
    condition.lock()
    defer { condition.unlock() }
    let fd = exitNotify
    exitNotify = nil
    return fd
  }

  func setTerminal(_ relay: TerminalRelay?) {
    condition.lock()
    terminal = relay
    condition.unlock()
  }

  func setMainLog(_ log: MainLog?) {
    condition.lock()
    mainLog = log
    condition.unlock()
  }

  /// The main log pump, handed over once (to be finished).
  func takeMainLog() -> MainLog? {
    condition.lock()
    defer { condition.unlock() }
    let log = mainLog
    mainLog = nil
    return log
  }

  /// Keeps (or, with nil, forgets) the terminal of the exec'd process `execID`.
  func setExecTerminal(_ execID: String, _ relay: TerminalRelay?) {
    condition.lock()
    execTerminals[execID] = relay
    condition.unlock()
  }

  /// The terminal of `process` (`main` or an exec id), nil when it has none (now).
  func terminal(of process: String) -> TerminalRelay? {
    condition.lock()
    defer { condition.unlock() }
    return process == "main" ? terminal : execTerminals[process]
  }

  /// The terminal relay, handed over once (to be closed).
  func takeTerminal() -> TerminalRelay? {
    condition.lock()
    defer { condition.unlock() }
    let relay = terminal
    terminal = nil
    return relay
  }

  func setStatusReader(_ fd: CInt?) {
    condition.lock()
    statusReader = fd
    condition.unlock()
  }

  var statusFD: CInt? {
    condition.lock()
    defer { condition.unlock() }
    return statusReader
  }

  /// Marks the status reader thread running (true) or done (false).
  func setReaderActive(_ active: Bool) {
    condition.lock()
    readerActive = active
    condition.broadcast()
    condition.unlock()
  }

  /// Waits until the status reader has seen the end of the pipe (init's exit).
  func waitReaderIdle() {
    condition.lock()
    while readerActive { condition.wait() }
    condition.unlock()
  }

  func setMainStatus(_ status: Int32) {
    condition.lock()
    reportedMainStatus = status
    condition.unlock()
  }

  var mainStatus: Int32? {
    condition.lock()
    defer { condition.unlock() }
    return reportedMainStatus
  }

  /// Closes the status pipe's read end.
  func closeStatusReader() {
    condition.lock()
    let fd = statusReader
    statusReader = nil
    condition.unlock()
    closeQuietly(fd ?? -1)
  }

  /// Claims the start of main; false if it is starting or has started already, so two
  /// `run_main`s cannot both start it (and the loser's failure kill the winner's container).
  func beginStart() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !starting, current.started == nil, !finished else { return false }
    starting = true
    return true
  }

  /// Ends a start begun with `beginStart`, applying `change` to the record in the same step.
  @discardableResult
  func endStart(_ change: (inout ContainerRecord) -> Void) -> ContainerRecord {
    condition.lock()
    defer { condition.unlock() }
    change(&current)
    starting = false
    condition.broadcast()
    return current
  }

  /// Waits until no start is in progress.
  func waitStartSettled() {
    condition.lock()
    while starting { condition.wait() }
    condition.unlock()
  }

  func setRuntimeGone(_ value: Bool) {
    condition.lock()
    runtimeGone = value
    condition.unlock()
  }

  var isRuntimeGone: Bool {
    condition.lock()
    defer { condition.unlock() }
    return runtimeGone
  }

  /// The daemon's write ends of main's log pipes (one per stream), kept open for a restartable
  /// container so each run's output goes to the same log.
  var mainLogWriters: (stdout: CInt?, stderr: CInt?) {
    condition.lock()
    defer { condition.unlock() }
    guard let mainLog else { return (nil, nil) }
    return (mainLog.writer(.stdout), mainLog.writer(.stderr))
  }

  func setRestartable(_ value: Bool) {
    condition.lock()
    restartable = value
    condition.unlock()
  }

  /// Marks that a client asked for the container to end; wakes a restart's backoff.
  func requestStop() {
    condition.lock()
    stopRequested = true
    condition.broadcast()
    condition.unlock()
  }

  var isStopRequested: Bool {
    condition.lock()
    defer { condition.unlock() }
    return stopRequested
  }

  /// Asks for main to be started again when it next ends; the number of runs so far, for
  /// `waitRun(after:until:)`.
  func requestRestart() -> Int {
    condition.lock()
    defer { condition.unlock() }
    restartRequested = true
    return runs
  }

  /// Takes a pending restart request.
  func takeRestartRequest() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    let requested = restartRequested
    restartRequested = false
    return requested
  }

  /// Blocks until a stop is asked for or `deadline` passes; true if a stop was asked for.
  func waitStopRequested(until deadline: Date) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while !stopRequested {
      if !condition.wait(until: deadline) { return stopRequested }
    }
    return true
  }

  /// Counts a run of main that has started; wakes `waitRun`.
  func countRun() {
    condition.lock()
    runs += 1
    // A run that started (by the policy, during a restart's backoff) answers a pending
    // `restart`: it must not start main once more at the next end.
    restartRequested = false
    condition.broadcast()
    condition.unlock()
  }

  /// Blocks until a run after the `runs`-th has started, the container has ended, or
  /// `deadline` passes; true if a new run started.
  func waitRun(after runs: Int, until deadline: Date) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while self.runs <= runs && !finished {
      if !condition.wait(until: deadline) { break }
    }
    return self.runs > runs
  }

  /// Claims the start of a later run of main (the start of the first is `beginStart`).
  func beginRestart() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !starting, !finished else { return false }
    starting = true
    reportedMainStatus = nil
    return true
  }

  /// Marks the container ended and wakes everyone waiting for it.
  func finish(_ record: ContainerRecord) {
    condition.lock()
    current = record
    finished = true
    let resumed = waiters
    waiters = []
    condition.broadcast()
    condition.unlock()
    for w in resumed { w.resume(returning: record) }
  }

  /// Blocks until the container has ended or `deadline` (nil: no deadline) passes; true if
  /// it ended.
  func waitFinished(until deadline: Date?) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while !finished {
      if let deadline {
        if !condition.wait(until: deadline) { return finished }
      } else {
        condition.wait()
      }
    }
    return true
  }

  /// Suspends until the container has ended; returns its final record.
  func awaitFinished() async -> ContainerRecord {
    await withCheckedContinuation { continuation in
      condition.lock()
      if finished {
        let r = current
        condition.unlock()
        continuation.resume(returning: r)
      } else {
        waiters.append(continuation)
        condition.unlock()
      }
    }
  }
}
