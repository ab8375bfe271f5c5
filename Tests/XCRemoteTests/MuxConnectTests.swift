import Foundation
import Glibc
import Testing
import XCIPC
@testable import XCRemote
import XCSystem
import XCTestSupport

/// Connect streams (a UNIX socket on the relay's side, as a container's terminal socket): the
/// real relay binary connects, bytes cross both ways through the windows, each half-close
/// arrives as EOF, and a missing socket is a clear refusal, not a hang.
@Suite(.serialized) struct MuxConnectTests {
  /// A listener at `path` that serves one client with `serve` on a thread; `done` is signalled
  /// after it closed the client.
  final class OneClientServer: @unchecked Sendable {
    let listener: Socket
    let done = DispatchSemaphore(value: 0)
    let received = Box<[UInt8]>([])

    init(path: String, serve: @escaping @Sendable (Int32, Box<[UInt8]>) -> Void) throws {
      listener = try Socket.listen(onUnixPath: path)
      let l = listener
      let box = received
      let sem = done
      Thread.detachNewThread {
        guard let c = try? l.accept() else {
          sem.signal()
          return
        }
        serve(c.rawValue, box)
        try? c.close()
        sem.signal()
      }
    }

    func stop() { try? listener.close() }
  }

  @Test func bytesCrossBothWaysAndEachHalfCloseIsAnEOF() throws {
    let h = try RelayHarness(table: XCMethodTable())
    defer { h.tearDown() }
    let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    // The far end reads to EOF (our half-close), then answers with many windows' worth and
    // closes (its EOF).
    let server = try OneClientServer(path: h.dir + "/term.sock") { fd, box in
      box.set(readAll(fd))
      writeAll(fd, Array("echo:".utf8) + box.get() + big)
    }
    defer { server.stop() }
    let fd = try h.session.connect(path: h.dir + "/term.sock")
    defer { close(fd) }
    writeAll(fd, Array("typed keys\n".utf8))
    shutdown(fd, Int32(SHUT_WR))
    let back = readAll(fd)
    #expect(back.count == 5 + 11 + big.count)
    #expect(Array(back.prefix(16)) == Array("echo:typed keys\n".utf8))
    #expect(Array(back.dropFirst(16)) == big)
    #expect(server.done.wait(timeout: .now() + 10) == .success)
    // The session carries on.
    #expect(try h.session.ping() < .seconds(5))
  }

  @Test func closingHereIsAnEOFThereAndAMissingSocketIsRefusedByName() throws {
    let h = try RelayHarness(table: XCMethodTable())
    defer { h.tearDown() }
    let server = try OneClientServer(path: h.dir + "/term.sock") { fd, box in
      box.set(readAll(fd))  // until we close: a detach
    }
    defer { server.stop() }
    let fd = try h.session.connect(path: h.dir + "/term.sock")
    writeAll(fd, Array("q".utf8))
    close(fd)
    #expect(server.done.wait(timeout: .now() + 10) == .success)
    #expect(server.received.get() == Array("q".utf8))

    let e = #expect(throws: IPCError.self) { _ = try h.session.connect(path: h.dir + "/gone.sock") }
    #expect(e?.errno == .noSuchFileOrDirectory)
    #expect(e?.message == "host testhost: cannot connect to \(h.dir)/gone.sock there: No such file or directory")
    let long = "/" + String(repeating: "x", count: 200)
    let e2 = #expect(throws: IPCError.self) { _ = try h.session.connect(path: long) }
    #expect(e2?.message.contains("File name too long") == true, "\(e2?.message ?? "")")
    #expect(try h.session.ping() < .seconds(5))
  }

  /// The relay ends with the session and takes its connections with it: the far end sees EOF.
  @Test func aConnectionEndsWithTheSession() throws {
    let h = try RelayHarness(table: XCMethodTable())
    let server = try OneClientServer(path: h.dir + "/term.sock") { fd, box in
      box.set(readAll(fd))
    }
    defer { server.stop() }
    let fd = try h.session.connect(path: h.dir + "/term.sock")
    defer { close(fd) }
    h.session.close()
    #expect(h.relayExits())
    #expect(server.done.wait(timeout: .now() + 10) == .success)
    #expect(readAll(fd).isEmpty)  // our end sees EOF too
    h.tearDown()
  }
}
