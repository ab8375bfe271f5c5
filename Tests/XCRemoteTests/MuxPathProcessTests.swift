import CSupport
import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
@testable import XCRemote
import XCSystem
import XCTestSupport

/// Host-path mounts and `link` through the real relay (a socketpair) to an in-process daemon:
/// the path is opened by the relay, the process handle is a child the relay holds.
@Suite(.serialized) struct MuxPathProcessTests {
  /// The local descriptor of a path slot: never the path, so a daemon given it would see
  /// /dev/null, not the path.
  func slot() -> FDRef { FDRef(FileDescriptor(rawValue: open("/dev/null", O_RDONLY | O_CLOEXEC))) }

  @Test func theRelayOpensTheHostPathAndPassesItAsEvidence() throws {
    let seen = Box<(sameInode: Bool, readOnly: Bool)?>(nil)
    var table = XCMethodTable()
    table.register(InstantiateRequest.self) { r, ctx in
      guard let m = r.mountReq.first, let evid = m.evid, let fd = ctx.descriptors.take(evid) else {
        throw XCDaemonError.invalid("no evid")
      }
      defer { close(fd.rawValue) }
      // What xcd checks: the descriptor is the inode at the source path.
      var path = stat()
      var held = stat()
      let same = stat(m.source.description, &path) == 0 && fstat(fd.rawValue, &held) == 0
        && path.st_dev == held.st_dev && path.st_ino == held.st_ino
      seen.set((same, fcntl(fd.rawValue, F_GETFL) & O_ACCMODE == O_RDONLY))
      return InstantiateResponse(id: "c1")
    }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let dir = h.dir + "/shared"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
    let evid = slot()
    defer { close(evid.descriptor!.rawValue) }
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [MountRequest(source: OsString(dir), dest: "/data", evid: evid)]
    #expect(try h.session.call(r).id == "c1")
    #expect(seen.get()?.sameInode == true)
    #expect(seen.get()?.readOnly == true)
  }

  @Test func aMissingPathThereFailsNamingHostAndPathBeforeTheDaemon() throws {
    let calls = Box(0)
    var table = XCMethodTable()
    table.register(InstantiateRequest.self) { _, _ in
      calls.set(calls.get() + 1)
      return InstantiateResponse(id: "c1")
    }
    table.register(ListContainersRequest.self) { _, _ in [] }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let evid = slot()
    defer { close(evid.descriptor!.rawValue) }
    let out = try makePipe()
    defer {
      close(out.read)
      close(out.write)
    }
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [MountRequest(source: OsString(h.dir + "/missing"), dest: "/data", evid: evid)]
    r.stdout = FDRef(FileDescriptor(rawValue: out.write))
    let e = #expect(throws: IPCError.self) { _ = try h.session.call(r) }
    #expect(e?.message == "host testhost: no such host path `\(h.dir)/missing`")
    #expect(e?.errno == .noSuchFileOrDirectory)
    #expect(e?.method == "instantiate")
    #expect(calls.get() == 0)
    // The session goes on.
    #expect(try h.session.call(ListContainersRequest()).isEmpty)
  }

  /// The daemon's side of one `link`: the descriptor it was given and the pid behind it (as
  /// xcd finds it, in /proc/self/fdinfo).
  final class Linked: @unchecked Sendable {
    var fds: [FileDescriptor] = []
    let lock = NSLock()
    func add(_ fd: FileDescriptor) {
      lock.lock()
      fds.append(fd)
      lock.unlock()
    }
    var last: FileDescriptor? {
      lock.lock()
      defer { lock.unlock() }
      return fds.last
    }
    static func pid(_ fd: FileDescriptor) -> pid_t? {
      guard let info = try? String(contentsOfFile: "/proc/self/fdinfo/\(fd.rawValue)", encoding: .utf8),
        let line = info.split(separator: "\n").first(where: { $0.hasPrefix("Pid:") })
      else { return nil }
      return pid_t(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
    }
    /// Whether the process behind `fd` ends within `seconds` (a pidfd reads when it does).
    static func ends(_ fd: FileDescriptor, within seconds: Int32) -> Bool {
      var p = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
      return poll(&p, 1, seconds * 1000) == 1
    }
  }

  /// A local process to link, as `link`'s sleeper: `sleep`, with a pidfd.
  func sleeper() throws -> (Process, FileDescriptor, DispatchSemaphore) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sleep")
    p.arguments = ["1000"]
    let ended = DispatchSemaphore(value: 0)
    p.terminationHandler = { _ in ended.signal() }
    try p.run()
    let fd = cs_pidfd_open(p.processIdentifier)
    guard fd >= 0 else { throw TestFailure("pidfd_open: \(errno)") }
    return (p, FileDescriptor(rawValue: fd), ended)
  }

  @Test func aLinkIsAChildThereAndEitherEndEndsTheOther() throws {
    let linked = Linked()
    var table = XCMethodTable()
    table.register(LinkRequest.self) { r, ctx in
      guard let fd = ctx.descriptors.take(r.fd) else { throw XCDaemonError.invalid("no fd") }
      linked.add(fd)
      return EmptyResponse()
    }
    let h = try RelayHarness(table: table)
    defer {
      h.tearDown()
      for fd in linked.fds { try? fd.close() }
    }
    let relayPID = h.relay.processIdentifier

    // The daemon kills the process behind its handle (the container ended): the local one is
    // killed too, so `link --wait` sees the link end.
    let (local1, fd1, ended1) = try sleeper()
    defer { try? fd1.close() }
    _ = try h.session.call(LinkRequest(name: "web", fd: FDRef(fd1)))
    let there1 = try #require(linked.last)
    let child = try #require(Linked.pid(there1))
    #expect(child != local1.processIdentifier)
    let status = (try? String(contentsOfFile: "/proc/\(child)/status", encoding: .utf8)) ?? ""
    #expect(status.contains("PPid:\t\(relayPID)\n"), "the handle's process is the relay's child: \(status)")
    kill(child, SIGKILL)
    #expect(ended1.wait(timeout: .now() + 10) == .success, "the local process was not ended")
    #expect(local1.terminationReason == .uncaughtSignal && local1.terminationStatus == SIGKILL)

    // The local process ends first: the relay kills its child, the daemon's handle reads.
    let (local2, fd2, ended2) = try sleeper()
    defer { try? fd2.close() }
    _ = try h.session.call(LinkRequest(name: "web", fd: FDRef(fd2)))
    let there2 = try #require(linked.last)
    #expect(!Linked.ends(there2, within: 0))
    kill(local2.processIdentifier, SIGKILL)
    #expect(ended2.wait(timeout: .now() + 10) == .success)
    #expect(Linked.ends(there2, within: 10), "the relay's child outlived the local process")

    // The session ends: the relay's child goes with the relay.
    let (local3, fd3, _) = try sleeper()
    defer {
      try? fd3.close()
      if local3.isRunning { kill(local3.processIdentifier, SIGKILL) }
    }
    _ = try h.session.call(LinkRequest(name: "web", fd: FDRef(fd3)))
    let there3 = try #require(linked.last)
    h.session.close()
    #expect(h.relayExits())
    #expect(Linked.ends(there3, within: 10), "the relay's child outlived the relay")
  }

  /// A relay whose handshake lacks a kind (one built from an older relay.c): the call is
  /// refused at once, naming the host, and nothing is sent.
  @Test func aRelayWithoutTheKindIsRefusedNamingTheHost() throws {
    let (mine, theirs) = try Socket.pair()
    defer { close(theirs.rawValue) }
    let old = MuxHello(capabilities: (1...6).reduce(UInt32(0)) { $0 | 1 << $1 }, info: ["relay": "2", "connect": "0"])
    writeAll(theirs.rawValue, MuxHeader(.hello, stream: 0, length: UInt32(old.bytes.count)).bytes + old.bytes)
    let session = try MuxSession(host: "web1", socket: mine.rawValue)
    defer { session.close() }
    #expect(session.relayCapabilities & DescriptorKind.path.capability == 0)
    let evid = slot()
    defer { close(evid.descriptor!.rawValue) }
    var r = InstantiateRequest(imageReference: "busybox:latest")
    r.mountReq = [MountRequest(source: "/srv", dest: "/data", evid: evid)]
    let e = #expect(throws: IPCError.self) { _ = try session.call(r) }
    #expect(e?.message.hasPrefix("host web1: the relay there (version 2) cannot carry host-path mounts") == true)
    #expect(e?.message.contains("was not sent") == true)
    let l = #expect(throws: IPCError.self) { _ = try session.call(LinkRequest(name: "w", fd: evid)) }
    #expect(l?.message.contains("cannot carry `link`'s process handle") == true)
    // Only our handshake crossed: no request frame.
    var buf = [UInt8](repeating: 0, count: 4096)
    _ = fcntl(theirs.rawValue, F_SETFL, O_NONBLOCK)
    let n = buf.withUnsafeMutableBytes { read(theirs.rawValue, $0.baseAddress!, $0.count) }
    let hello = MuxHello(capabilities: 0)
    #expect(n == MuxHeader.size + hello.bytes.count)
  }
}
