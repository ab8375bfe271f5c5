import Foundation

/// The persistent history: one entry per line in `$XDG_STATE_HOME/xcsh/history`
/// (else `~/.local/state/xcsh/history`), newlines in multi-line entries escaped.
///
/// Entries are appended as they are entered, so two sessions share one file sanely: each sees
/// the other's entries from its next start, and neither overwrites the other's. Duplicates keep
/// only their latest position; lines starting with a space are never recorded.
public final class HistoryStore: @unchecked Sendable {
  public let path: String
  public let capacity: Int
  public private(set) var entries: [String] = []

  public init(path: String = HistoryStore.defaultPath(), capacity: Int = 10_000) {
    self.path = path
    self.capacity = capacity
    load()
  }

  public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/xcsh/history" }
    let home = environment["HOME"] ?? NSHomeDirectory()
    return home + "/.local/state/xcsh/history"
  }

  private func load() {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
    var seen = Set<String>()
    var newestFirst: [String] = []
    for line in text.split(separator: "\n").reversed() {
      let entry = Self.unescape(String(line))
      if seen.insert(entry).inserted { newestFirst.append(entry) }
      if newestFirst.count >= capacity { break }
    }
    entries = newestFirst.reversed()
    // Compact a file that has grown well past the cap (duplicates and old entries).
    if text.utf8.count > 0, text.split(separator: "\n").count > capacity * 2 { rewrite() }
  }

  /// Records an entry; returns false when it is not recorded (blank or starting with a space).
  @discardableResult
  public func add(_ entry: String) -> Bool {
    guard !entry.hasPrefix(" "), !entry.allSatisfy({ $0.isWhitespace }) else { return false }
    entries.removeAll { $0 == entry }
    entries.append(entry)
    if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    append(Self.escape(entry) + "\n")
    return true
  }

  private func ensureDirectory() {
    let dir = (path as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  private func append(_ line: String) {
    ensureDirectory()
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    defer { close(fd) }
    // One write per entry: appends from two sessions never interleave within a line.
    let bytes = Array(line.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  }

  private func rewrite() {
    ensureDirectory()
    let tmp = path + ".tmp"
    let text = entries.map { Self.escape($0) + "\n" }.joined()
    if FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) {
      _ = rename(tmp, path)
    }
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }

  static func unescape(_ s: String) -> String {
    var out = ""
    var escaping = false
    for c in s {
      if escaping {
        out.append(c == "n" ? "\n" : c)
        escaping = false
      } else if c == "\\" {
        escaping = true
      } else {
        out.append(c)
      }
    }
    return out
  }
}
