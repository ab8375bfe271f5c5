import Foundation
import Glibc
import Testing
import XCIPC
@testable import XCRemote
import XCSystem
import XCTestSupport

/// Read streams (a file on the relay's side, as a container's log): the real relay binary
/// reads a file from an offset to its end through the windows, says which file it was, refuses
/// what is not a regular file by name without hanging; and a relay whose handshake lacks the
/// capability is refused before anything is sent.
@Suite(.serialized) struct MuxReadTests {
  func identity(_ path: String) -> RemoteFile.Identity {
    var st = stat()
    stat(path, &st)
    return RemoteFile.Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
  }

  @Test func aFileArrivesWholeFromAnyOffsetAndItsIdentityFollowsARename() throws {
    let h = try RelayHarness(table: XCMethodTable())
    defer { h.tearDown() }
    #expect(h.session.canReadFiles)
    // Three windows' worth: the relay stops at each window until we give it back.
    let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 16) }
    let path = h.dir + "/main.log"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(big)))
    let whole = try h.session.readFile(path: path, from: 0)
    #expect(whole.bytes == big)
    #expect(whole.size == UInt64(big.count))
    #expect(whole.identity == identity(path))
    let tail = try h.session.readFile(path: path, from: 1_000_001)
    #expect(tail.bytes == Array(big[1_000_001...]))
    #expect(try h.session.readFile(path: path, from: UInt64(big.count) + 5).bytes.isEmpty)

    // Grown: read on from where the last read ended.
    let more = Array("appended\n".utf8)
    let f = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    f.seekToEndOfFile()
    f.write(Data(more))
    try f.close()
    #expect(try h.session.readFile(path: path, from: UInt64(big.count)).bytes == more)

    // Renamed: the same file (as xcd moves an ended container's log); replaced: another.
    let moved = h.dir + "/ended.log"
    #expect(rename(path, moved) == 0)
    let after = try h.session.readFile(path: moved, from: UInt64(big.count))
    #expect(after.identity == whole.identity && after.bytes == more)
    #expect(FileManager.default.createFile(atPath: path, contents: Data("new\n".utf8)))
    let fresh = try h.session.readFile(path: path, from: 0)
    #expect(fresh.identity != whole.identity && fresh.bytes == Array("new\n".utf8))
    #expect(try h.session.ping() < .seconds(5))
  }

  @Test func whatCannotBeReadIsRefusedByNameWithoutHanging() throws {
    let h = try RelayHarness(table: XCMethodTable())
    defer { h.tearDown() }
    var e = #expect(throws: IPCError.self) { _ = try h.session.readFile(path: h.dir + "/gone.log", from: 0) }
    #expect(e?.errno == .noSuchFileOrDirectory)
    #expect(e?.message == "host testhost: cannot read \(h.dir)/gone.log there: No such file or directory")
    // A directory, and a FIFO with no writer (opening it must not wait for one).
    e = #expect(throws: IPCError.self) { _ = try h.session.readFile(path: h.dir, from: 0) }
    #expect(e?.message == "host testhost: cannot read \(h.dir) there: not a regular file")
    #expect(mkfifo(h.dir + "/fifo", 0o600) == 0)
    e = #expect(throws: IPCError.self) { _ = try h.session.readFile(path: h.dir + "/fifo", from: 0) }
    #expect(e?.message == "host testhost: cannot read \(h.dir)/fifo there: not a regular file")
    // A relative path is refused here: the relay's working directory means nothing to xcsh.
    e = #expect(throws: IPCError.self) { _ = try h.session.readFile(path: "main.log", from: 0) }
    #expect(e?.code == .encoding)
    #expect(try h.session.ping() < .seconds(5))
  }

  /// Each read stream ends with its FIN and the relay closes the file: many reads leave no
  /// descriptor open there.
  @Test func manyReadsLeaveNoDescriptorOpenInTheRelay() throws {
    let h = try RelayHarness(table: XCMethodTable())
    defer { h.tearDown() }
    let path = h.dir + "/main.log"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 100_000)))
    func relayDescriptors() -> Int {
      (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(h.relay.processIdentifier)/fd"))?.count ?? -1
    }
    _ = try h.session.readFile(path: path, from: 0)
    let before = relayDescriptors()
    for i in 0..<200 { #expect(try h.session.readFile(path: path, from: UInt64(i * 500)).bytes.count == 100_000 - i * 500) }
    // A missing file, too.
    for _ in 0..<20 { _ = try? h.session.readFile(path: h.dir + "/gone", from: 0) }
    #expect(try h.session.ping() < .seconds(5))
    #expect(relayDescriptors() == before)
  }

  /// A relay built before read streams: its handshake lacks the bit, so `readFile` fails at
  /// once naming the host — nothing is sent that it would take for a connect stream.
  @Test func aRelayWithoutTheCapabilityIsRefusedBeforeAnythingIsSent() throws {
    let (mine, theirs) = try Socket.pair()
    let old = DescriptorKind.allCases.filter { $0 != .read }.reduce(UInt32(0)) { $0 | $1.capability }
    let hello = MuxHello(capabilities: old, info: ["relay": RelaySource.version, "connect": "0", "socket": "/x.sock"])
    writeAll(theirs.rawValue, MuxHeader(.hello, stream: 0, length: UInt32(hello.bytes.count)).bytes + hello.bytes)
    let session = try MuxSession(host: "oldhost", socket: mine.rawValue)
    #expect(!session.canReadFiles)
    let e = #expect(throws: IPCError.self) { _ = try session.readFile(path: "/var/xc/main.log", from: 0) }
    #expect(e?.errno == .notSupported)
    #expect(e?.message.hasPrefix("host oldhost: the relay there is too old to read files") == true, "\(e?.message ?? "")")
    session.close()
    // All the old relay received: our handshake, nothing else.
    let received = readAll(theirs.rawValue)
    try theirs.close()
    let header = try #require(MuxHeader(decoding: received))
    #expect(header.kind == .hello)
    #expect(received.count == MuxHeader.size + Int(header.length), "\(received.count) bytes")
  }
}
