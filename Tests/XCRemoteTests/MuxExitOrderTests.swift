import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
@testable import XCRemote
import XCSystem
import XCTestSupport

/// A process's exit is told after its output: the shell reads the exit eventfd and goes on
/// (prints, or ends), so output still on its way through the relay would come after what the
/// shell printed next, or never. Locally the process writes its output itself before it exits.
extension MuxRelayTests {
  static let exitedZero: UInt64 = 0x1000_0000_0000_0000

  /// An exec whose handler writes `output` to stdout and then tells the exit (status 0).
  static func writesThenExits(_ output: [UInt8]) -> XCMethodTable {
    var table = XCMethodTable()
    table.register(ExecRequest.self) { r, ctx in
      guard let o = ctx.descriptors.take(r.stdout!), let n = ctx.descriptors.take(r.notify!)
      else { throw XCDaemonError.invalid("descriptors missing") }
      Thread.detachNewThread {
        writeAll(o.rawValue, output)
        close(o.rawValue)
        try? EventFD(n).write(exitedZero)
        close(n.rawValue)
      }
      return SpawnInfo(pid: 7)
    }
    return table
  }

  static func readable(_ fd: Int32, within ms: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, ms) == 1
  }

  static func queued(_ fd: Int32) -> Int {
    var n: Int32 = 0
    return ioctl(fd, UInt(FIONREAD), &n) == 0 ? Int(n) : -1
  }

  /// Here the output is slow to write (this side's stdout is a full pipe): the exit waits for
  /// it; once the pipe is read, the exit comes with the output already in the pipe.
  @Test func theExitIsToldAfterTheOutputBeforeItIsWrittenHere() throws {
    let h = try RelayHarness(table: Self.writesThenExits(Array("still-here\n".utf8)))
    defer { h.tearDown() }
    let stdout = try makePipe()
    defer { close(stdout.read) }
    // Fill this side's pipe: the session's writer blocks on it, as on a terminal nobody reads.
    _ = fcntl(stdout.write, F_SETFL, fcntl(stdout.write, F_GETFL) | O_NONBLOCK)
    var filled = 0
    let block = [UInt8](repeating: 0x2e, count: 4096)
    while true {
      let n = block.withUnsafeBytes { write(stdout.write, $0.baseAddress!, $0.count) }
      if n <= 0 { break }
      filled += n
    }
    _ = fcntl(stdout.write, F_SETFL, fcntl(stdout.write, F_GETFL) & ~O_NONBLOCK)
    let exited = try EventFD.create(flags: [.closeOnExec])
    defer { close(exited.rawValue) }
    _ = try h.session.call(
      ExecRequest(
        name: "c", arg0: "echo", stdout: FDRef(FileDescriptor(rawValue: stdout.write)), notify: FDRef(exited.fileDescriptor)))
    close(stdout.write)
    #expect(!Self.readable(exited.rawValue, within: 1000), "the exit was told before the output was written")
    var buf = [UInt8](repeating: 0, count: 65536)
    var drained = 0
    while drained < filled {
      let n = buf.withUnsafeMutableBytes { read(stdout.read, $0.baseAddress!, min($0.count, filled - drained)) }
      if n <= 0 { break }
      drained += n
    }
    #expect(Self.readable(exited.rawValue, within: 10_000))
    #expect(try exited.read() == Self.exitedZero)
    #expect(Self.queued(stdout.read) == "still-here\n".utf8.count, "the output was not all there when the exit was told")
    #expect(String(decoding: readAll(stdout.read), as: UTF8.self) == "still-here\n")
  }

  /// More output than the window: the relay holds the exit until the output the process
  /// wrote before it is sent, however long the window takes to come back.
  @Test func theRelayHoldsTheExitUntilTheOutputBeforeItIsSent() throws {
    let size = 3 << 19  // 1.5 MiB: more than the window, less than it and the relay's pipe
    let output = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let h = try RelayHarness(table: Self.writesThenExits(output))
    defer { h.tearDown() }
    let stdout = try makePipe()
    defer { close(stdout.read) }
    let exited = try EventFD.create(flags: [.closeOnExec])
    defer { close(exited.rawValue) }
    _ = try h.session.call(
      ExecRequest(
        name: "c", arg0: "yes", stdout: FDRef(FileDescriptor(rawValue: stdout.write)), notify: FDRef(exited.fileDescriptor)))
    close(stdout.write)
    #expect(!Self.readable(exited.rawValue, within: 1000), "the exit was told while output was held back by the window")
    var got: [UInt8] = []
    var atExit: Int?
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buf.withUnsafeMutableBytes { read(stdout.read, $0.baseAddress!, $0.count) }
      if n <= 0 { break }
      got += buf[0..<n]
      if atExit == nil, Self.readable(exited.rawValue, within: 0) { atExit = got.count + Self.queued(stdout.read) }
    }
    #expect(got == output)
    #expect(atExit == nil || atExit == size, "the exit was told with \(size - (atExit ?? 0)) bytes of output still to come")
    #expect(Self.readable(exited.rawValue, within: 10_000))
    #expect(try exited.read() == Self.exitedZero)
  }
}
