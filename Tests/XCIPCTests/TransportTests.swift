import Foundation
import SystemPackage
import Testing
import XCSystem

@testable import XCIPC

/// A test-only method whose response echoes the request, plus the number of descriptors seen.
struct EchoRequest: XCRequest, Equatable {
  typealias Response = EchoResponse
  static let method = "xcsh.test_echo"
  var text: String
  var files: [FDRef] = []
}

struct EchoResponse: Codable, Sendable, Equatable {
  var text: String
  var descriptorCount: Int
  var peerUID: UInt32 = 0
  var peerPID: Int32 = 0
}

/// A table answering `xcsh.test_echo` and `kill_container`.
func echoTable() -> XCMethodTable {
  var t = XCMethodTable()
  t.register(EchoRequest.self) { r, ctx in
    EchoResponse(
      text: r.text, descriptorCount: ctx.descriptors.count, peerUID: ctx.peer.uid,
      peerPID: ctx.peer.pid)
  }
  t.register(KillContainerRequest.self) { r, _ in
    guard r.name == "web" else { throw XCDaemonError.notFound("no such container: \(r.name)") }
    return EmptyResponse()
  }
  return t
}

@Suite struct TransportTests {
  @Test func descriptorsCrossThreadsAndAreUsableOnTheOtherSide() throws {
    let (a, b) = try Socket.pair()
    let sender = FrameChannel(socket: a)
    let dir = try TempDir()
    defer { dir.remove() }

    let filePath = dir.path + "/f.txt"
    try "file contents".write(toFile: filePath, atomically: false, encoding: .utf8)
    let file = try FileDescriptor.open(filePath, .readOnly)
    let pipe = try FileDescriptor.closeOnExecPipe()
    let efd = try EventFD.create()
    defer {
      try? file.close()
      try? pipe.readEnd.close()
      try? efd.close()
    }

    // The receiving thread reads the file, writes into the pipe and signals the eventfd.
    let done = DispatchSemaphore(value: 0)
    let failure = LockedBox<String?>(nil)
    let t = Thread {
      defer { done.signal() }
      // The channel is not Sendable: the receiving thread builds its own over the socket.
      let receiver = FrameChannel(socket: b)
      defer { receiver.close() }
      do {
        guard let frame = try receiver.receive() else {
          failure.set("no frame")
          return
        }
        let fds = frame.descriptors
        guard fds.count == 3, let f = fds.take(0), let w = fds.take(1), let e = fds.take(2) else {
          failure.set("expected 3 descriptors, got \(fds.count)")
          return
        }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = try buf.withUnsafeMutableBytes { try f.read(fromAbsoluteOffset: 0, into: $0) }
        _ = try w.writeAll(buf[0..<n])
        try EventFD(e).write(7)
        try f.close()
        try w.close()
        try e.close()
      } catch {
        failure.set("\(error)")
      }
    }
    t.start()
    try sender.send(
      body: Array(#"{"x":1}"#.utf8), descriptors: [file, pipe.writeEnd, efd.fileDescriptor])
    try pipe.writeEnd.close()  // only the receiver's copy remains
    done.wait()
    #expect(failure.get() == nil)
    var out = [UInt8](repeating: 0, count: 64)
    let n = try out.withUnsafeMutableBytes { try pipe.readEnd.read(into: $0) }
    #expect(String(decoding: out[0..<n], as: UTF8.self) == "file contents")
    #expect(try efd.read() == 7)
    sender.close()
  }

  @Test func sixtyFourDescriptorsArriveInOrder() throws {
    let (a, b) = try Socket.pair()
    let sender = FrameChannel(socket: a)
    let receiver = FrameChannel(socket: b)
    defer {
      sender.close()
      receiver.close()
    }
    let pipes = try (0..<32).map { _ in try FileDescriptor.closeOnExecPipe() }
    defer {
      for p in pipes {
        try? p.readEnd.close()
        try? p.writeEnd.close()
      }
    }
    let fds = pipes.flatMap { [$0.readEnd, $0.writeEnd] }
    #expect(fds.count == 64)
    try sender.send(body: Array("{}".utf8), descriptors: fds)
    let frame = try #require(try receiver.receive())
    let got = frame.descriptors.takeAll()
    #expect(got.count == 64)
    for (sent, received) in zip(fds, got) {
      #expect(try sent.identity() == received.identity())
      try received.close()
    }
  }

  @Test func sixtyFiveDescriptorsAreRefusedBeforeWriting() throws {
    let (a, b) = try Socket.pair()
    let sender = FrameChannel(socket: a)
    defer {
      sender.close()
      try? b.close()
    }
    let efd = try EventFD.create()
    defer { try? efd.close() }
    #expect(throws: IPCError.self) {
      try sender.send(
        body: Array("{}".utf8), descriptors: Array(repeating: efd.fileDescriptor, count: 65))
    }
    #expect(try b.waitReadable(milliseconds: 0) == false)  // nothing was written
  }

  @Test func oneMebibyteBodyThroughClientAndServer() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path, timeout: .seconds(10))
      defer { client.close() }
      var rng = SplitMix64(seed: 1)
      let text = String(
        (0..<(1 << 20)).map { _ in
          Character(Unicode.Scalar(UInt8.random(in: 97...122, using: &rng)))
        })
      let reply = try client.call(EchoRequest(text: text))
      #expect(reply.text == text)
      #expect(reply.text.utf8.count == 1 << 20)
    }
  }

  @Test func descriptorsReachTheHandlerAndUntakenOnesAreClosed() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      let pipe = try FileDescriptor.closeOnExecPipe()
      defer { try? pipe.readEnd.close() }
      let reply = try client.call(
        EchoRequest(text: "fds", files: Array(repeating: FDRef(pipe.writeEnd), count: 64)))
      #expect(reply.descriptorCount == 64)
      // The handler took none, so the server closed all 64 copies before answering: closing
      // ours leaves no writer, and the read end sees EOF instead of blocking.
      try pipe.writeEnd.close()
      var b = [UInt8](repeating: 0, count: 1)
      #expect(try b.withUnsafeMutableBytes { try pipe.readEnd.read(into: $0) } == 0)
    }
  }

  @Test func handlersCanTakeDescriptors() throws {
    var table = XCMethodTable()
    table.register(RunMainRequest.self) { r, ctx in
      guard let fd = r.notify.flatMap({ ctx.descriptors.take($0) }) else {
        throw XCDaemonError.invalid("no notify")
      }
      // Signal later, after the handler returned and untaken descriptors were closed.
      let e = EventFD(fd)
      Thread {
        try? e.write(ProcessNotification.encodeExit(.exited(3)))
        try? e.close()
      }.start()
      return ContainerIDResponse(id: "5f3c9a7e21b4")
    }
    try withServer(table) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      let efd = try EventFD.create()
      defer { try? efd.close() }
      let reply = try client.call(RunMainRequest(name: "web", notify: FDRef(efd.fileDescriptor)))
      #expect(reply.id == "5f3c9a7e21b4")
      #expect(ProcessNotification.decodeExit(try efd.read())?.exitCode == 3)
    }
  }

  @Test func manyConcurrentConnections() throws {
    try withServer(echoTable()) { path, server in
      let clients = try (0..<48).map { _ in try XCClient(path: path, timeout: .seconds(10)) }
      defer { for c in clients { c.close() } }
      // One call each proves every connection has its own live handler thread.
      for (i, c) in clients.enumerated() {
        #expect(try c.call(EchoRequest(text: "hi \(i)")).text == "hi \(i)")
      }
      #expect(server.connectionCount == 48)
      let errors = LockedBox<[String]>([])
      DispatchQueue.concurrentPerform(iterations: clients.count) { i in
        for j in 0..<100 {
          let text = "client \(i) call \(j)"
          do {
            let r = try clients[i].call(EchoRequest(text: text))
            if r.text != text { errors.mutate { $0.append("mismatch \(r.text) for \(text)") } }
          } catch {
            errors.mutate { $0.append("\(error)") }
          }
        }
      }
      #expect(errors.get().isEmpty, "\(errors.get().prefix(3))")
    }
  }

  @Test func handlersSeeThePeerCredentials() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      let r = try client.call(EchoRequest(text: "who"))
      #expect(r.peerUID == PeerCredentials.current.uid)
      #expect(r.peerPID == PeerCredentials.current.pid)
    }
  }

  @Test func connectionClosedHookFiresWithTheConnectionID() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let closed = DispatchSemaphore(value: 0)
    let linked = LockedBox<UInt64?>(nil)
    let seen = LockedBox<UInt64?>(nil)
    var table = XCMethodTable()
    table.register(LinkRequest.self) { _, ctx in
      linked.set(ctx.connectionID)
      return EmptyResponse()
    }
    let server = try XCServer(path: dir.path + "/xc.sock", table: table) { id, peer in
      if peer.uid == PeerCredentials.current.uid { seen.set(id) }
      closed.signal()
    }
    server.start()
    defer { server.stop() }
    let client = try XCClient(path: dir.path + "/xc.sock")
    let efd = try EventFD.create()
    defer { try? efd.close() }
    _ = try client.call(LinkRequest(name: "web", fd: FDRef(efd.fileDescriptor)))
    client.close()
    closed.wait()  // the hook runs once the server sees the connection end
    #expect(seen.get() != nil)
    #expect(seen.get() == linked.get())
  }

  @Test func stopClosesConnectionsAndRemovesTheSocket() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.path + "/xc.sock"
    let server = try XCServer(path: path, table: echoTable())
    server.start()
    let client = try XCClient(path: path, timeout: .seconds(10))
    defer { client.close() }
    _ = try client.call(EchoRequest(text: "before"))
    server.stop()
    #expect(!FileManager.default.fileExists(atPath: path))
    do throws(IPCError) {
      _ = try client.call(EchoRequest(text: "after"))
      Issue.record("served after stop")
    } catch {
      #expect(error.code == .connectionClosed)
    }
    do throws(IPCError) {
      _ = try XCClient(path: path)
      Issue.record("connected after stop")
    } catch {
      #expect(error.code == .noDaemon)
    }
  }

  @Test func concurrentCallsOnOneClientAreSerialized() throws {
    try withServer(echoTable()) { path, _ in
      let client = try XCClient(path: path)
      defer { client.close() }
      let bad = LockedBox(0)
      DispatchQueue.concurrentPerform(iterations: 8) { i in
        for j in 0..<50 {
          let t = "\(i)-\(j)"
          if (try? client.call(EchoRequest(text: t)).text) != t { bad.mutate { $0 += 1 } }
        }
      }
      #expect(bad.get() == 0)
    }
  }
}

/// A small lock-protected box for collecting results from other threads.
final class LockedBox<T>: @unchecked Sendable {
  private var value: T
  private let lock = NSLock()
  init(_ v: T) { value = v }
  func get() -> T { lock.withLock { value } }
  func set(_ v: T) { lock.withLock { value = v } }
  func mutate(_ f: (inout T) -> Void) { lock.withLock { f(&value) } }
}
