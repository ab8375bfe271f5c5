import Foundation
import Glibc
import Logging

/// How many ended containers are kept, and for how long (xcd's `keep_ended` and
/// `keep_ended_seconds`).
public struct EndedRetention: Sendable, Equatable {
  /// At most this many records (the oldest go first); 0 keeps none.
  public var count: Int
  /// Records older than this (since the container ended) go.
  public var seconds: Int

  public static let standard = EndedRetention(count: 100, seconds: 86_400)

  public init(count: Int, seconds: Int) {
    self.count = count
    self.seconds = seconds
  }
}

/// Ended containers' records and main logs, kept after their resources were released so that
/// `ps --all`, `logs`, `show` and `wait` still find them (Docker's exited containers), until
/// `xcsh.remove_container` forgets them or the retention drops them. Each lives in
/// `<state>/ended/<id>/`: `record.json` and `main.log`. Only the record and the log: the
/// root, addresses and redirections went with the release, as in xc.
final class EndedContainers: @unchecked Sendable {
  let dir: String
  let retention: EndedRetention
  let logger: Logger
  /// Guards `records` (the files follow it, written and removed under the lock).
  private let lock = NSLock()
  private var records: [String: ContainerRecord] = [:]

  init(dir: String, retention: EndedRetention, logger: Logger) {
    self.dir = dir
    self.retention = retention
    self.logger = logger
    for id in FileSystem.list(dir) {
      let path = dir + "/" + id + "/record.json"
      do {
        records[id] = try StateStore.decode(ContainerRecord.self, try FileSystem.readString(path))
      } catch {
        logger.error("unreadable ended container record: removed", metadata: ["path": "\(path)", "error": "\(error)"])
        removeFiles(id)
      }
    }
    lock.withLock { prune(now: Engine.nowNanos()) }
  }

  /// Keeps `record` of a container that has just ended, moving main's log out of `bundle`
  /// (which the release removes next). A failure is logged: the release goes on.
  func keep(_ record: ContainerRecord, bundle: String) {
    guard retention.count > 0 else { return }
    var record = record
    let own = dir + "/" + record.id
    do {
      try FileSystem.makeDirectories(own, mode: 0o700)
      let log = bundle + "/main.log"
      let kept = own + "/main.log"
      // A no_clean container keeps its directory, and its log there.
      if !record.no_clean, FileSystem.exists(log) {
        guard rename(log, kept) == 0 else { throw EngineError.system("rename \(log)") }
      }
      if !record.no_clean, var main = record.processes["main"] {
        if main.stdout_log_file == log { main.stdout_log_file = kept }
        if main.stderr_log_file == log { main.stderr_log_file = kept }
        record.processes["main"] = main
      }
      // Exec'd processes' logs (`exec --detach`) are kept the same way.
      if !record.no_clean {
        for (process, var stat) in record.processes where process != "main" {
          for log in Set([stat.stdout_log_file, stat.stderr_log_file].compactMap { $0 }) where log.hasPrefix(bundle + "/") && FileSystem.exists(log) {
            let kept = own + "/" + (log as NSString).lastPathComponent
            guard rename(log, kept) == 0 else { throw EngineError.system("rename \(log)") }
            if stat.stdout_log_file == log { stat.stdout_log_file = kept }
            if stat.stderr_log_file == log { stat.stderr_log_file = kept }
          }
          record.processes[process] = stat
        }
      }
      record.status = .exited
      record.pid = nil
      try FileSystem.writeAtomically(own + "/record.json", Array(try StateStore.encode(record).utf8), mode: 0o600)
    } catch {
      logger.error("cannot keep the ended container's record", metadata: ["id": "\(record.id)", "error": "\(error)"])
      removeFiles(record.id)
      return
    }
    lock.withLock {
      records[record.id] = record
      prune(now: Engine.nowNanos())
    }
  }

  /// Every kept record, the most recently ended first.
  func all() -> [ContainerRecord] {
    lock.withLock {
      prune(now: Engine.nowNanos())
      return records.values.sorted { ($0.finished_at ?? 0, $0.id) > ($1.finished_at ?? 0, $1.id) }
    }
  }

  /// A kept record by id, else the most recently ended one with that (given) name.
  func find(_ name: String) -> ContainerRecord? {
    let records = all()
    return records.first { $0.id == name } ?? records.first { $0.named && $0.name == name }
  }

  /// Forgets the record `name` names (an id, or every ended container with that given name)
  /// and its log; returns the ids forgotten.
  func remove(_ name: String) -> [String] {
    lock.withLock {
      let ids = records[name] != nil ? [name] : records.values.filter { $0.named && $0.name == name }.map(\.id)
      for id in ids {
        records.removeValue(forKey: id)
        removeFiles(id)
      }
      return ids
    }
  }

  /// Drops records past the retention (called with the lock held).
  private func prune(now: Int64) {
    let horizon = now - Int64(retention.seconds) * 1_000_000_000
    let old = records.values.filter { ($0.finished_at ?? $0.created) < horizon }.map(\.id)
    for id in old {
      records.removeValue(forKey: id)
      removeFiles(id)
    }
    let excess = records.count - max(retention.count, 0)
    if excess > 0 {
      let oldest = records.values.sorted { ($0.finished_at ?? 0, $0.id) < ($1.finished_at ?? 0, $1.id) }.prefix(excess)
      for r in oldest {
        records.removeValue(forKey: r.id)
        removeFiles(r.id)
      }
    }
  }

  private func removeFiles(_ id: String) {
    do { try FileSystem.removeTree(dir + "/" + id) } catch {
      logger.error("cannot remove an ended container's files", metadata: ["id": "\(id)", "error": "\(error)"])
    }
  }
}
