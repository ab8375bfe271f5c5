import Foundation
import XCSystem

/// Main's log as records (`LogRecord`, docs/ipc.md `xcsh.logs`): the output of each stream is
/// cut into lines, each stamped with the time it was read and its stream, and appended to a
/// capped file (`BoundedLogFile`, whose header marks the format). One lock orders stamping and
/// writing, so the file's records are in time order and their times strictly increase: a
/// reader that saw a record can go on after it by time alone (`logs --follow` across a trim).
/// Thread-safe.
final class RecordLog: @unchecked Sendable {
  /// A line longer than this is written in pieces (`P` records), as Docker cuts at 16 KiB.
  static let maxLine = 16 * 1024

  let file: BoundedLogFile
  private let lock = NSLock()
  /// Each stream's unterminated last line, held until its newline (or `maxLine`) comes.
  private var pending: [LogStream: [UInt8]] = [:]
  private var last: Int64 = 0
  /// The clock, replaceable by tests.
  private let now: @Sendable () -> Int64

  init(file: BoundedLogFile, now: @escaping @Sendable () -> Int64 = Engine.nowNanos) {
    self.file = file
    self.now = now
  }

  /// Creates the file at `path` (emptied if it exists) with the record format's header.
  convenience init(path: String, capacity: Int = BoundedLogFile.defaultCapacity) throws {
    try self.init(file: BoundedLogFile(path: path, capacity: capacity, header: LogRecordFile.header))
  }

  /// Appends what `stream` wrote: every line it completes becomes a record.
  func append(_ stream: LogStream, _ bytes: UnsafeRawBufferPointer) {
    guard !bytes.isEmpty else { return }
    lock.lock()
    defer { lock.unlock() }
    var buffer = pending[stream] ?? []
    buffer.append(contentsOf: bytes)
    var out: [UInt8] = []
    var start = 0
    while start < buffer.count {
      let newline = buffer[start...].firstIndex(of: 0x0A)
      let end = newline ?? buffer.count
      if end - start > Self.maxLine {
        out += record(stream, partial: true, buffer[start..<(start + Self.maxLine)])
        start += Self.maxLine
        continue
      }
      guard let newline else { break }
      out += record(stream, partial: false, buffer[start..<newline])
      start = newline + 1
    }
    pending[stream] = Array(buffer[start...])
    file.append(out)
  }

  func append(_ stream: LogStream, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append(stream, $0) }
  }

  /// Writes each stream's unterminated end as a `P` record: the output has ended.
  func flush() {
    lock.lock()
    defer { lock.unlock() }
    var out: [UInt8] = []
    for stream in LogStream.allCases {
      if let rest = pending[stream], !rest.isEmpty { out += record(stream, partial: true, rest[...]) }
    }
    pending = [:]
    file.append(out)
  }

  /// Flushes, then closes the file; later appends are ignored.
  func close() {
    flush()
    file.close()
  }

  /// One encoded record, stamped after every earlier one (called with the lock held).
  private func record(_ stream: LogStream, partial: Bool, _ line: ArraySlice<UInt8>) -> [UInt8] {
    last = max(now(), last + 1)
    return LogRecord(time: last, stream: stream, partial: partial, line: Array(line)).encoded()
  }
}
