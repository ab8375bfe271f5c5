import Foundation
import Glibc
import XCIPC
import XCShell
import XCSystem

/// `logs --follow`: the log's entries as they are written, until the container has ended (its
/// record is kept, so every write is in) — for an exec'd process, until it has exited (xcd
/// records the exit once its log is complete) — or Ctrl-C. When the container ends, xcd moves the
/// file to `ended/<id>/` (the same file, followed there: `FollowedLogFile`); when the daemon
/// trims it past its cap, a new file takes the path and reading goes on in it after the last
/// record seen (record times strictly increase), so nothing repeats (lines go missing only when
/// the log is trimmed twice before the follower reads on). The file is read here, or on the
/// daemon's host through the relay.
final class LogFollower: @unchecked Sendable {
  private let path: String
  private let id: String
  private let process: String
  private let session: DaemonSession
  private let call: Call
  private let selection: LogSelection
  /// Asks the daemon where the log is now (it moves when the container ends).
  private let locate: () throws -> String?
  private let file: any FollowedLogFile
  private var ended = false
  /// Bytes after the last newline read: a record still being written.
  private var rest: [UInt8] = []
  /// The time of the last record read; after a trim, records up to it are skipped.
  private var lastTime = Int64.min
  private var joiner = LogJoiner()
  /// Entries read, returned from `position` on.
  private var ready: [LogRecord] = []
  private var position = 0
  /// The daemon has no end notification for a container a follower did not start (`link`
  /// would stop it with the connection), so its state is asked (`show_container`): only while
  /// the file is quiet, and less often the longer it stays so (`stateDelay`, 100 ms after the
  /// file last grew, doubling up to 1 s), while the file itself is read every 100 ms.
  private var stateDelay: Int64 = 0
  /// When (`Clock.now`) to ask next.
  private var nextStateCheck = Int64.min
  static let fileInterval: Int64 = 100
  static let longestStateDelay: Int64 = 1000

  /// Opens the record log at `path` (through `reader`) and takes what it holds now (its last
  /// `tail` entries).
  init(
    path: String, reader: LogFileReader, tail: Int?, selection: LogSelection, id: String, process: String,
    _ session: DaemonSession, _ call: Call, locate: @escaping () throws -> String?
  ) throws {
    self.path = path
    self.locate = locate
    self.id = id
    self.process = process
    self.session = session
    self.call = call
    self.selection = selection
    file = try reader.follow(path, at: call.head)
    var now: [UInt8] = []
    while true {
      let chunk = try file.read().bytes
      if chunk.isEmpty { break }
      now += chunk
    }
    take(now)
    if let tail { ready = Array(ready.suffix(tail)) }
  }

  /// Parses newly read bytes into selected entries.
  private func take(_ bytes: [UInt8]) {
    let (records, left) = LogRecordFile.records(rest + bytes)
    rest = left
    for r in records where r.time > lastTime {
      lastTime = r.time
      // Joined first, then selected: a long line counts at its first piece's time, as in `logs`.
      if let entry = joiner.add(r), selection.accepts(entry) { ready.append(entry) }
    }
  }

  /// The next entry written, waiting for it; nil once the container has ended and all is read.
  func next() throws -> LogRecord? {
    while true {
      if position < ready.count {
        defer { position += 1 }
        return ready[position]
      }
      ready = []
      position = 0
      let (chunk, fresh) = try file.read()
      if fresh { rest = [] }  // a trim's new file: the cut record is in it whole
      if !chunk.isEmpty {
        take(chunk)
        // The next quiet moment asks at once.
        stateDelay = 0
        nextStateCheck = .min
        continue
      }
      if ended {
        ready = joiner.finish().filter(selection.accepts)
        if ready.isEmpty { return nil }
        continue
      }
      // A trim put a new file at the path: go on with it, after the last record seen.
      if switchTo(path) { continue }
      // `--until`: nothing written from then on is shown, so following ends there (as Docker's).
      if let until = selection.until, LogSelection.now() >= until {
        ended = true
        continue
      }
      if Clock.now >= nextStateCheck {
        ended = try containerEnded()
        if ended {
          // A trim may have made a new file that then moved with the ended container before it
          // was seen at the path: the file the daemon names now is the one to finish.
          if let now = try? locate() { _ = switchTo(now) }
          continue  // read what the last writes left, then stop
        }
        stateDelay = min(max(stateDelay * 2, Self.fileInterval), Self.longestStateDelay)
        nextStateCheck = Clock.now + stateDelay * 1_000_000
      }
      try Clock.sleep(milliseconds: Self.fileInterval, call)
    }
  }

  /// Goes on reading in the file at `path` if it is not the one being read (a trimmed log's
  /// new file), after the last record seen; whether it did.
  private func switchTo(_ path: String) -> Bool {
    guard file.follow(path) else { return false }
    rest = []
    return true
  }

  /// Whether the container has ended and been released (its record kept, or gone), or the
  /// followed exec'd process has exited.
  private func containerEnded() throws -> Bool {
    do {
      let shown = try session.call(ShowContainerRequest(id: id), at: call.head)
      return shown.containerDead || (process != "main" && shown.runningContainer.processes[process]?.exitCode != nil)
    } catch let e as ShellError where ObjectArgs.isNotFound(e) {
      return true
    }
  }
}
