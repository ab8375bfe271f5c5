import Foundation

/// Host networking of one test daemon, counted without touching anyone else's: the dnat
/// rules of its own nftables table (`xcd_<hash>`), the leases in its own database, and the
/// bridges whose names start with a test's prefix.
enum NetworkCount {
  /// Output of `argv` (stderr discarded), or nil if it could not run or failed.
  static func output(_ argv: [String]) -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return p.terminationStatus == 0 ? text : nil
  }

  /// `dnat` rules in the daemon's table (0 when the table does not exist).
  static func dnatRules(_ daemon: DaemonHarness) -> Int {
    guard let text = output(["/usr/sbin/nft", "list", "table", "ip", daemon.nftTable]) else { return 0 }
    return text.components(separatedBy: "dnat to").count - 1
  }

  /// Rows of the daemon's lease table, read from its database (-1 if unreadable, so a
  /// broken count never passes as equal to a real one).
  static func leases(_ daemon: DaemonHarness) -> Int {
    let db = daemon.stateDir + "/xcd.sqlite"
    guard FileManager.default.fileExists(atPath: db) else { return 0 }
    let text = output(["/usr/bin/sqlite3", "-readonly", "-cmd", ".timeout 5000", db, "SELECT count(*) FROM lease"])
    return text.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? -1
  }

  /// Host interfaces whose name starts with `prefix`.
  static func links(prefix: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []).filter { $0.hasPrefix(prefix) }
  }

  /// Whether bridge `name` is whole: a bridge, up, holding `address` when one is given.
  static func bridgeIsWhole(_ name: String, address: String?) -> Bool {
    guard FileManager.default.fileExists(atPath: "/sys/class/net/\(name)/bridge") else { return false }
    let flags = (try? String(contentsOfFile: "/sys/class/net/\(name)/flags", encoding: .utf8)) ?? ""
    guard let value = Int(flags.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16),
      value & 0x1 != 0  // IFF_UP
    else { return false }
    guard let address else { return true }
    return output(["/usr/sbin/ip", "-4", "-o", "addr", "show", "dev", name])?.contains(" \(address)/") ?? false
  }

  /// Deletes interface `name` (clean-up after a failed test; errors ignored).
  static func deleteLink(_ name: String) {
    _ = output(["/usr/sbin/ip", "link", "del", name])
  }
}
