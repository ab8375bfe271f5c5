import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
@testable import XCRemote
import XCSystem
import XCTestSupport

/// The mux end to end in one process: MuxSession ↔ the real relay binary over a socketpair ↔
/// an in-process xc server. Each descriptor kind crosses and is checked on the other side.
@Suite(.serialized) struct MuxRelayTests {
  @Test func handshakeAndPlainCall() throws {
    var table = XCMethodTable()
    table.register(ListContainersRequest.self) { _, _ in [] }
    table.register(KillContainerRequest.self) { r, _ in throw XCDaemonError.notFound("no such container: \(r.name)") }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    #expect(h.session.relayInfo["relay"] == RelaySource.version)
    #expect(h.session.relayInfo["uid"] == String(getuid()))
    #expect(h.session.relayInfo["connect"] == "0")
    #expect(try h.session.call(ListContainersRequest()).isEmpty)
    let e = #expect(throws: IPCError.self) { _ = try h.session.call(KillContainerRequest(name: "ghost")) }
    #expect(e?.code == .daemon)
    #expect(e?.message.contains("no such container: ghost") == true)
    // The session goes on after an error answer.
    #expect(try h.session.call(ListContainersRequest()).isEmpty)
    #expect(try h.session.ping() < .seconds(5))
  }

  /// stdin (with its EOF), stdout, stderr and the exit eventfd of one `exec`: the daemon side
  /// reads stdin to EOF after answering, as a process in a container does.
  @Test func execStdioAndExitEvent() throws {
    var table = XCMethodTable()
    table.register(ExecRequest.self) { r, ctx in
      guard let i = ctx.descriptors.take(r.stdin!), let o = ctx.descriptors.take(r.stdout!),
        let e = ctx.descriptors.take(r.stderr!), let n = ctx.descriptors.take(r.notify!)
      else { throw XCDaemonError.invalid("descriptors missing") }
      Thread.detachNewThread {
        let input = readAll(i.rawValue)
        writeAll(o.rawValue, Array("got:".utf8) + input)
        writeAll(e.rawValue, Array("warn\n".utf8))
        close(i.rawValue)
        close(o.rawValue)
        close(e.rawValue)
        try? EventFD(n).write(0x1000_0000_0000_0000 | (3 << 8))
        close(n.rawValue)
      }
      return SpawnInfo(pid: 42)
    }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let stdin = try makePipe()
    let stdout = try makePipe()
    let stderr = try makePipe()
    let exited = try EventFD.create(flags: [.closeOnExec])
    defer { close(exited.rawValue) }
    writeAll(stdin.write, Array("hello\nworld\n".utf8))
    close(stdin.write)  // EOF must arrive there as EOF
    let info = try h.session.call(
      ExecRequest(
        name: "c", arg0: "cat", stdin: FDRef(FileDescriptor(rawValue: stdin.read)),
        stdout: FDRef(FileDescriptor(rawValue: stdout.write)), stderr: FDRef(FileDescriptor(rawValue: stderr.write)),
        notify: FDRef(exited.fileDescriptor)))
    close(stdin.read)
    close(stdout.write)
    close(stderr.write)
    #expect(info.pid == 42)
    #expect(String(decoding: readAll(stdout.read), as: UTF8.self) == "got:hello\nworld\n")
    #expect(String(decoding: readAll(stderr.read), as: UTF8.self) == "warn\n")
    #expect(try exited.read() == 0x1000_0000_0000_0300)
    close(stdout.read)
    close(stderr.read)
  }

  /// More than many windows' worth of output, read slowly here: flow control holds the
  /// relay's buffers bounded and every byte arrives in order.
  @Test func largeOutputWithFlowControl() throws {
    let size = 12 << 20
    var table = XCMethodTable()
    table.register(ExecRequest.self) { r, ctx in
      guard let o = ctx.descriptors.take(r.stdout!) else { throw XCDaemonError.invalid("no stdout") }
      Thread.detachNewThread {
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for i in 0..<(size >> 20) {
          for j in 0..<block.count { block[j] = UInt8(truncatingIfNeeded: i &+ j) }
          writeAll(o.rawValue, block)
        }
        close(o.rawValue)
      }
      return SpawnInfo(pid: 1)
    }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let stdout = try makePipe()
    _ = try h.session.call(ExecRequest(name: "c", arg0: "yes", stdout: FDRef(FileDescriptor(rawValue: stdout.write))))
    close(stdout.write)
    let got = readAll(stdout.read)
    close(stdout.read)
    #expect(got.count == size)
    var ok = got.count == size
    for i in stride(from: 0, to: got.count, by: 4099) where got[i] != UInt8(truncatingIfNeeded: (i >> 20) &+ (i & 0xfffff)) {
      ok = false
      break
    }
    #expect(ok)
  }

  /// An upload is spooled to a seekable file there before the call reaches the daemon.
  @Test func uploadArrivesWholeAndSeekable() throws {
    let seen = Box<(isFile: Bool, bytes: [UInt8])>((false, []))
    var table = XCMethodTable()
    table.register(CopyInRequest.self) { r, ctx in
      guard let fd = ctx.descriptors.take(r.fd) else { throw XCDaemonError.invalid("no fd") }
      defer { close(fd.rawValue) }
      var st = stat()
      fstat(fd.rawValue, &st)
      lseek(fd.rawValue, 0, SEEK_END)
      lseek(fd.rawValue, 0, SEEK_SET)
      seen.set(((st.st_mode & S_IFMT) == S_IFREG, readAll(fd.rawValue)))
      return NullResponse()
    }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let content = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let path = h.dir + "/upload"
    _ = FileManager.default.createFile(atPath: path, contents: Data(content))
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    defer { close(fd) }
    _ = try h.session.call(CopyInRequest(name: "c", path: "/x", fd: FDRef(FileDescriptor(rawValue: fd))))
    #expect(seen.get().isFile)
    #expect(seen.get().bytes == content)
  }

  /// A download (commit's alt_out, copy-out) is in the local file when the call returns,
  /// including bytes the daemon wrote out of order.
  @Test func downloadIsCompleteWhenTheCallReturns() throws {
    var table = XCMethodTable()
    table.register(CopyOutRequest.self) { r, ctx in
      guard let fd = ctx.descriptors.take(r.fd) else { throw XCDaemonError.invalid("no fd") }
      defer { close(fd.rawValue) }
      writeAll(fd.rawValue, [UInt8](repeating: 7, count: 2 << 20))
      _ = pwrite(fd.rawValue, "HEAD", 4, 0)  // the daemon may seek
      return NullResponse()
    }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let path = h.dir + "/download"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    _ = try h.session.call(CopyOutRequest(name: "c", path: "/x", fd: FDRef(FileDescriptor(rawValue: fd))))
    close(fd)
    let got = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    #expect(got.count == 2 << 20)
    #expect(Array(got.prefix(5)) == Array("HEAD".utf8) + [7])
  }

  @Test func noDaemonIsNamedWithHostAndFix() throws {
    let e = #expect(throws: IPCError.self) { _ = try RelayHarness(table: nil, socketName: "missing.sock") }
    #expect(e?.code == .noDaemon)
    #expect(e?.message.contains("host testhost") == true)
    #expect(e?.message.contains("missing.sock") == true)
    #expect(e?.message.contains("start xcd there") == true)
  }

  @Test func permissionDeniedSaysWhoMayConnect() {
    let e = RemoteErrors.daemonUnreachable(
      host: "web1",
      info: [
        "connect": "13", "connect_class": "denied", "error": "Permission denied", "socket": "/var/run/xc.sock",
        "socket_mode": "660", "socket_group": "xc", "user": "alice",
      ])
    #expect(e?.code == .permissionDenied)
    #expect(e?.message == "host web1: permission denied connecting to /var/run/xc.sock as user alice (the socket is mode 0660 for group xc): add user alice to the socket's group there, or connect as root")
  }

  /// The relay dies while the daemon holds the call: the error names the call and says it
  /// may have taken effect (it reached the daemon).
  @Test func relayLostMidCall() throws {
    let entered = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    var table = XCMethodTable()
    table.register(KillContainerRequest.self) { _, _ in
      entered.signal()
      _ = release.wait(timeout: .now() + 30)
      return EmptyResponse()
    }
    let h = try RelayHarness(table: table)
    defer {
      release.signal()
      h.tearDown()
    }
    let failure = Box<IPCError?>(nil)
    let done = DispatchSemaphore(value: 0)
    let session = h.session
    Thread.detachNewThread {
      do throws(IPCError) { _ = try session.call(KillContainerRequest(name: "web")) } catch { failure.set(error) }
      done.signal()
    }
    #expect(entered.wait(timeout: .now() + 10) == .success)
    kill(h.relay.processIdentifier, SIGKILL)
    #expect(done.wait(timeout: .now() + 10) == .success)
    let e = failure.get()
    #expect(e?.code == .connectionClosed)
    #expect(e?.message.contains("during `kill_container`") == true)
    #expect(e?.message.contains("may have taken effect") == true)
    // Later calls fail at once, saying they were not sent.
    let again = #expect(throws: IPCError.self) { _ = try session.call(ListContainersRequest()) }
    #expect(again?.message.contains("was not sent") == true)
  }

  /// Closing the session ends the relay, and the daemon sees its descriptors close (EOF on an
  /// output the relay was draining).
  @Test func closingTheSessionEndsTheRelayAndItsDescriptors() throws {
    let eof = DispatchSemaphore(value: 0)
    var table = XCMethodTable()
    table.register(ExecRequest.self) { r, ctx in
      guard let i = ctx.descriptors.take(r.stdin!) else { throw XCDaemonError.invalid("no stdin") }
      Thread.detachNewThread {
        _ = readAll(i.rawValue)  // ends when the relay closes its write end
        close(i.rawValue)
        eof.signal()
      }
      return SpawnInfo(pid: 1)
    }
    let h = try RelayHarness(table: table)
    defer { h.tearDown() }
    let stdin = try makePipe()  // never closed here: only the relay's exit ends it there
    defer {
      close(stdin.read)
      close(stdin.write)
    }
    _ = try h.session.call(ExecRequest(name: "c", arg0: "cat", stdin: FDRef(FileDescriptor(rawValue: stdin.read))))
    h.session.close()
    #expect(h.relayExits())
    #expect(eof.wait(timeout: .now() + 10) == .success)
  }
}
