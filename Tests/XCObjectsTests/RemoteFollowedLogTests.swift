import Testing
import XCIPC
@testable import XCObjects
import XCRemote
import XCShell

/// `logs --follow` on a remote host reads its log by path and offset through the relay: what a
/// `RemoteFollowedLog` asks for and makes of the answers, against files held here in place of
/// the relay's `read` streams (their real reading is MuxReadTests').
@Suite struct RemoteFollowedLogTests {
  /// Files "on the host": path → (inode, bytes); every read is recorded.
  final class Host: @unchecked Sendable {
    var files: [String: (inode: UInt64, bytes: [UInt8])] = [:]
    var reads: [(String, UInt64)] = []
    var lost = false

    func read(_ path: String, _ offset: UInt64) throws(IPCError) -> RemoteFile {
      reads.append((path, offset))
      if lost { throw IPCError(.connectionClosed, "host h: connection lost while reading \(path) there (ssh exited)") }
      guard let f = files[path] else {
        throw IPCError(.system, "host h: cannot read \(path) there: No such file or directory", errno: .noSuchFileOrDirectory)
      }
      let from = min(Int(offset), f.bytes.count)
      return RemoteFile(
        identity: RemoteFile.Identity(device: 1, inode: f.inode), size: UInt64(f.bytes.count), bytes: Array(f.bytes[from...]))
    }
  }

  func follower(_ host: Host, _ path: String) -> RemoteFollowedLog {
    RemoteFollowedLog(path: path, at: .unknown) { (p, o) throws(IPCError) in try host.read(p, o) }
  }

  @Test func readsOnFromTheOffsetReachedThroughATrimAndAMove() throws {
    let host = Host()
    let log = "/state/containers/c1/main.log"
    host.files[log] = (10, Array("a\nb\n".utf8))
    let f = follower(host, log)
    var r = try f.read()
    #expect(r.bytes == Array("a\nb\n".utf8) && !r.fresh)
    // Nothing new, then what was appended only.
    #expect(try f.read().bytes.isEmpty)
    host.files[log]!.bytes += Array("c\n".utf8)
    r = try f.read()
    #expect(r.bytes == Array("c\n".utf8) && !r.fresh)
    #expect(host.reads.last! == (log, 4))

    // Trimmed: another file at the path, holding the newest part: read whole, as fresh.
    host.files[log] = (11, Array("c\nd\n".utf8))
    r = try f.read()
    #expect(r.bytes == Array("c\nd\n".utf8) && r.fresh)

    // The container ended: its log moved (the same file). The path reads as nothing new
    // until `follow` names where it went; reading goes on there from the same offset.
    let moved = "/state/ended/c1/main.log"
    host.files[moved] = host.files.removeValue(forKey: log)!
    host.files[moved]!.bytes += Array("e\n".utf8)
    r = try f.read()
    #expect(r.bytes.isEmpty && !r.fresh)
    #expect(!f.follow(moved))
    r = try f.read()
    #expect(r.bytes == Array("e\n".utf8) && !r.fresh)
    #expect(host.reads.last! == (moved, 4))
  }

  @Test func aMissingLogAtFirstAndALostConnectionAreErrors() throws {
    let host = Host()
    let e = #expect(throws: ShellError.self) { _ = try follower(host, "/nowhere/main.log").read() }
    #expect(e?.code == .logsRead)
    #expect(e?.message == "cannot read the log file: host h: cannot read /nowhere/main.log there: No such file or directory")

    host.files["/l"] = (1, Array("x\n".utf8))
    let f = follower(host, "/l")
    _ = try f.read()
    host.lost = true
    let lost = #expect(throws: ShellError.self) { _ = try f.read() }
    #expect(lost?.code == .logsRead)
    #expect(lost?.message.contains("connection lost") == true)
  }
}
