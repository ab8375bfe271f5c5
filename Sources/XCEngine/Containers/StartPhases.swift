import Foundation
import Glibc

/// In-process timestamps of one container's start, from the engine's `instantiate` to main's
/// exit notification, for finding where a start's time goes (docs/benchmarks.md, "Where a
/// start's time goes"). Off unless xcd runs with `XCD_START_PHASES=FILE`: then each container
/// appends one line to FILE when it ends, `phases <id> NAME=MS ...`, each mark in ms since the
/// engine took the request (monotonic clock), in the order they were made (the threads that
/// read main's exit and wait for init mark theirs concurrently). When off, `mark` is a branch.
final class StartPhases: @unchecked Sendable {
  /// Where the lines go; nil when tracing is off.
  static let file: String? = ProcessInfo.processInfo.environment["XCD_START_PHASES"].flatMap { $0.isEmpty ? nil : $0 }

  private let lock = NSLock()
  private var marks: [(String, UInt64)] = []

  init() {
    if Self.file != nil { marks.append(("begin", Self.now())) }
  }

  /// Marks the end of the phase `name` (from any thread).
  func mark(_ name: String) {
    guard Self.file != nil else { return }
    let t = Self.now()
    lock.withLock { marks.append((name, t)) }
  }

  /// Appends the container's line to the trace file (one `write` on an `O_APPEND` file, so
  /// lines of containers ending together do not interleave).
  func write(id: String) {
    guard let file = Self.file else { return }
    let marks = lock.withLock { self.marks }
    var line = "phases \(id)"
    for i in marks.indices.dropFirst() {
      line += " \(marks[i].0)=" + String(format: "%.3f", Double(marks[i].1 - marks[0].1) / 1e6)
    }
    line += "\n"
    let fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
    close(fd)
  }

  private static func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }
}
