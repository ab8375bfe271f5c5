import Foundation
import SystemPackage
import Testing
import XCSystem

/// A directory under the system temp dir, removed by `remove()`.
struct TempDir {
  let path: String
  init() throws {
    path =
      FileManager.default.temporaryDirectory
      .appendingPathComponent("xcsys-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

private func sendString(_ s: Socket, _ text: String, passing fds: [FileDescriptor] = []) throws {
  try Array(text.utf8).withUnsafeBytes { try s.sendAll($0, passing: fds) }
}

private func receive(_ s: Socket, max: Int = 64, maxFDs: Int = 64) throws -> (String, ReceivedChunk)
{
  var buf = [UInt8](repeating: 0, count: max)
  let chunk = try buf.withUnsafeMutableBytes { try s.receive(into: $0, maxDescriptors: maxFDs) }
  return (String(decoding: buf[0..<chunk.byteCount], as: UTF8.self), chunk)
}

@Suite struct SocketTests {
  @Test func socketpairCarriesBytes() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    try sendString(a, "hello")
    let (text, chunk) = try receive(b)
    #expect(text == "hello")
    #expect(chunk.descriptors.isEmpty)
    #expect(!chunk.truncated)
  }

  @Test func passedPipeIsUsableOnTheOtherSide() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    let pipe = try FileDescriptor.closeOnExecPipe()
    try sendString(a, "x", passing: [pipe.writeEnd])
    try pipe.writeEnd.close()  // the receiver now holds the only write end
    let (_, chunk) = try receive(b)
    #expect(chunk.descriptors.count == 1)
    let received = try #require(chunk.descriptors.first)
    #expect(received != pipe.writeEnd || received.isOpen)
    _ = try received.writeAll(Array("through the pipe".utf8))
    try received.close()
    var out = [UInt8](repeating: 0, count: 64)
    let n = try out.withUnsafeMutableBytes { try pipe.readEnd.read(into: $0) }
    #expect(String(decoding: out[0..<n], as: UTF8.self) == "through the pipe")
    try pipe.readEnd.close()
  }

  @Test func passedDescriptorsHaveCloseOnExecAndSameIdentity() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    let efd = try EventFD.create()
    defer { try? efd.close() }
    try sendString(a, "e", passing: [efd.fileDescriptor])
    let (_, chunk) = try receive(b)
    let got = try #require(chunk.descriptors.first)
    #expect(got.isCloseOnExec)  // MSG_CMSG_CLOEXEC
    #expect(try got.identity() == efd.fileDescriptor.identity())
    let received = EventFD(got)
    try efd.write(41)
    try received.write(1)
    #expect(try efd.read() == 42)
    try received.close()
  }

  @Test func tooManyDescriptorsAreClosedAndReportedTruncated() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    let efd = try EventFD.create()
    defer { try? efd.close() }
    try sendString(a, "t", passing: Array(repeating: efd.fileDescriptor, count: 5))
    let (_, chunk) = try receive(b, maxFDs: 2)
    #expect(chunk.truncated)
    #expect(chunk.descriptors.count <= 2)
    for fd in chunk.descriptors { try fd.close() }
  }

  @Test func sendRefusesMoreThanTheKernelLimit() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    let efd = try EventFD.create()
    defer { try? efd.close() }
    #expect(throws: Errno.invalidArgument) {
      try sendString(a, "x", passing: Array(repeating: efd.fileDescriptor, count: 254))
    }
  }

  @Test func listenConnectAcceptAndPeerCredentials() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.path + "/s.sock"
    let listener = try Socket.listen(onUnixPath: path)
    defer { try? listener.close() }
    let client = try Socket.connect(toUnixPath: path)
    defer { try? client.close() }
    let server = try listener.accept()
    defer { try? server.close() }
    let cred = try server.peerCredentials()
    #expect(cred == PeerCredentials.current)
    try sendString(client, "ping")
    #expect(try receive(server).0 == "ping")
  }

  @Test func connectToMissingPathFailsWithENOENT() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    #expect(throws: Errno.noSuchFileOrDirectory) {
      _ = try Socket.connect(toUnixPath: dir.path + "/nobody.sock")
    }
  }

  @Test func overlongSocketPathIsRejected() {
    #expect(throws: Errno.fileNameTooLong) {
      _ = try Socket.connect(toUnixPath: "/tmp/" + String(repeating: "x", count: 200))
    }
  }

  @Test func ioTimeoutMakesReceiveFailWithEAGAIN() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    try b.setIOTimeout(milliseconds: 20)
    #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try receive(b) }
  }

  @Test func eventfdCountsAndNonBlockingReadFailsWhenZero() throws {
    let efd = try EventFD.create(flags: [.closeOnExec, .nonBlocking])
    defer { try? efd.close() }
    #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try efd.read() }
    try efd.write(2)
    try efd.write(3)
    #expect(try efd.read() == 5)
  }

  @Test func eventfdWaitReadableWithTimeout() throws {
    let efd = try EventFD.create()
    defer { try? efd.close() }
    #expect(try efd.waitReadable(milliseconds: 10) == false)
    try efd.write(1)
    #expect(try efd.waitReadable(milliseconds: 1000))
    #expect(try efd.read() == 1)
  }

  @Test func eofReadsZeroBytes() throws {
    let (a, b) = try Socket.pair()
    defer { try? b.close() }
    try a.close()
    let (_, chunk) = try receive(b)
    #expect(chunk.byteCount == 0)
  }

  @Test func waitReadableReportsPendingData() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    #expect(try b.waitReadable(milliseconds: 0) == false)
    try sendString(a, "z")
    #expect(try b.waitReadable(milliseconds: 1000))
  }
}

@Suite struct SendTwoTests {
  @Test func headerAndBodyArriveInOrderEvenWhenLarge() throws {
    let (a, b) = try Socket.pair()
    defer {
      try? a.close()
      try? b.close()
    }
    let first = Array("head:".utf8)
    let second = [UInt8](repeating: 7, count: 1 << 20)  // bigger than the socket buffer
    let done = DispatchSemaphore(value: 0)
    let received = Box<[UInt8]>([])
    let reader = Thread {
      var got: [UInt8] = []
      var buf = [UInt8](repeating: 0, count: 65536)
      while got.count < first.count + second.count {
        let n = (try? buf.withUnsafeMutableBytes { try b.receive(into: $0).byteCount }) ?? 0
        if n == 0 { break }
        got += buf[0..<n]
      }
      received.set(got)
      done.signal()
    }
    reader.start()
    try first.withUnsafeBytes { f in try second.withUnsafeBytes { s in try a.sendAll(f, s) } }
    done.wait()
    #expect(received.get() == first + second)
  }
}

final class Box<T>: @unchecked Sendable {
  private var v: T
  private let lock = NSLock()
  init(_ v: T) { self.v = v }
  func get() -> T { lock.withLock { v } }
  func set(_ n: T) { lock.withLock { v = n } }
}
