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
  /// Copies main's output into its log file when the client kept none of it.
  private var mainLog: MainLog?

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
