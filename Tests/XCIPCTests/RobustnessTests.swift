import Foundation
import SystemPackage
import Testing
import XCSystem

@testable import XCIPC

extension XCRequest {
  /// Registers a handler that decodes the payload and answers errno 5, so every method's
  /// decoding path is live without building a response.
  static func registerDecodingOnly(in table: inout XCMethodTable) {
    table.register(Self.self) { _, _ in throw XCDaemonError.io("decoded") }
  }
}

/// A table with every xc method (decoding only) plus the echo method.
func fullTable() -> XCMethodTable {
  var t = echoTable()
  for m in XCMethods.all + XCMethods.unregistered + XCMethods.extensions
  where m.method != "kill_container" {
    m.registerDecodingOnly(in: &t)
  }
  return t
}

/// A raw connection for sending malformed bytes.
final class RawConnection {
  let socket: Socket
  let channel: FrameChannel
  init(_ path: String) throws {
    socket = try Socket.connect(toUnixPath: path)
    try socket.setIOTimeout(milliseconds: 10_000)  // a bug must fail the test, not hang it
    channel = FrameChannel(socket: socket)
  }
  func send(_ bytes: [UInt8], fds: [FileDescriptor] = []) throws {
    try sendRaw(socket, bytes, passing: fds)
  }
  func sendRequest(_ json: String) throws { try send(frameBytes(Array(json.utf8))) }
  /// Reads one answer frame; nil when the server closed the connection.
  func answer() throws -> (errno: Int, message: String)? {
    guard let frame = try channel.receive() else { return nil }
    let reply = try Envelope.decodeResponse(JSONValue.self, from: frame.body)
    switch reply {
    case .success: return (0, "")
    case .failure(let e): return (e.errno, e.value.text)
    }
  }
  func close() { channel.close() }
}

@Suite struct RobustnessTests {
  /// After each abuse, a fresh client must still be served.
  func expectStillServing(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws
  {
    let c = try XCClient(path: path, timeout: .seconds(10))
    defer { c.close() }
    #expect(try c.call(EchoRequest(text: "alive")).text == "alive", sourceLocation: sourceLocation)
  }

  /// Reads until EOF (the server closed the connection) and returns true, or false if an
  /// answer came instead.
  func closedWithoutAnswer(_ raw: RawConnection) throws -> Bool {
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
      let chunk = try buf.withUnsafeMutableBytes { try raw.socket.receive(into: $0) }
      for fd in chunk.descriptors { try fd.close() }
      if chunk.byteCount == 0 { return true }
      return false
    }
  }

  @Test func wrongPayloadTypesGetErrno22NamingTheMethodForEveryMethod() throws {
    let candidates = [
      #"null"#, #"{}"#, #"[]"#, #"42"#, #""text""#, #"true"#,
      #"{"name":7,"id":[],"image_reference":{}}"#,
    ]
    try withServer(fullTable()) { path, _ in
      let raw = try RawConnection(path)
      defer { raw.close() }
      var rejected = 0
      for m in XCMethods.all + XCMethods.unregistered {
        for payload in candidates {
          let body = #"{"method":"\#(m.method)","value":\#(payload)}"#
          try raw.sendRequest(body)
          let a = try #require(try raw.answer(), "\(m.method) \(payload): connection closed")
          if a.errno == 22 {
            rejected += 1
            #expect(a.message.hasPrefix("\(m.method): invalid payload"), "\(a.message)")
          } else {
            // Accepted shapes reach the handler, which answers EIO.
            #expect(a.errno == 5, "\(m.method) \(payload): \(a)")
          }
        }
      }
      // Most combinations are wrong; each method rejects at least 5 of the 7.
      #expect(rejected >= 5 * 33)
      try expectStillServing(path)
    }
  }

  @Test func payloadShapeTrapsAreAnsweredPrecisely() throws {
    try withServer(fullTable()) { path, _ in
      let raw = try RawConnection(path)
      defer { raw.close() }
      func ask(_ json: String) throws -> (errno: Int, message: String) {
        try raw.sendRequest(json)
        return try #require(try raw.answer())
      }
      #expect(try ask(#"{"method":"list_containers","value":{}}"#).errno == 22)
      #expect(try ask(#"{"method":"list_containers","value":null}"#).errno == 5)
      #expect(try ask(#"{"method":"info","value":null}"#).errno == 22)
      #expect(try ask(#"{"method":"info","value":{}}"#).errno == 5)
      #expect(
        try ask(#"{"method":"describe_image","value":{"image_reference":"a:1"}}"#).errno == 22)
      #expect(try ask(#"{"method":"describe_image","value":"a:1"}"#).errno == 5)
      let missing = try ask(#"{"method":"show_container","value":{}}"#)
      #expect(missing.errno == 22)
      #expect(missing.message.contains("`id`"), "\(missing.message)")
      let wrongType = try ask(
        #"{"method":"exec","value":{"name":"w","arg0":"x","args":"notalist","envs":{},"use_tty":false}}"#
      )
      #expect(wrongType.message.contains("`args`"), "\(wrongType.message)")
      let nested = try ask(
        #"{"method":"instantiate","value":{"image_reference":"a:1","mount_req":[{"source":"/plain/string"}]}}"#
      )
      #expect(nested.errno == 22)
      let fdIndex = try ask(#"{"method":"run_main","value":{"name":"w","notify":3}}"#)
      #expect(fdIndex.errno == 22)
      #expect(fdIndex.message.contains("descriptor index 3 out of range"), "\(fdIndex.message)")
      let unknown = try ask(#"{"method":"no_such_method","value":null}"#)
      #expect(unknown.errno == 2)
      #expect(unknown.message == "ipc method no_such_method not found")
      // The connection survived all of that.
      #expect(try ask(#"{"method":"xcsh.test_echo","value":{"text":"ok","files":[]}}"#).errno == 0)
    }
  }

  @Test func framesThatLieCloseOnlyTheirConnection() throws {
    try withServer(fullTable(), limits: FrameLimits(maxBodyLength: 1 << 20)) { path, _ in
      let bystander = try XCClient(path: path, timeout: .seconds(10))
      defer { bystander.close() }
      _ = try bystander.call(EchoRequest(text: "before"))

      let abuses: [(String, (RawConnection) throws -> Void)] = [
        ("not JSON", { try $0.send(frameBytes(Array("garbage!".utf8))) }),
        ("JSON but no envelope", { try $0.send(frameBytes(Array(#"{"hello":1}"#.utf8))) }),
        (
          "method not a string",
          { try $0.send(frameBytes(Array(#"{"method":5,"value":null}"#.utf8))) }
        ),
        ("no value key", { try $0.send(frameBytes(Array(#"{"method":"info"}"#.utf8))) }),
        (
          "length over the cap",
          {
            try $0.send(FrameHeader(bodyLength: 1 << 40, descriptorCount: 0).bytes)
          }
        ),
        (
          "fd count over 64",
          {
            try $0.send(FrameHeader(bodyLength: 2, descriptorCount: 65).bytes + Array("{}".utf8))
          }
        ),
        (
          "fd count says 2, none attached",
          {
            try $0.send(frameBytes(Array(#"{"method":"info","value":{}}"#.utf8), fds: 2))
          }
        ),
        (
          "truncated body then EOF",
          {
            try $0.send(
              FrameHeader(bodyLength: 100, descriptorCount: 0).bytes + Array("{\"me".utf8))
            try $0.socket.shutdown(.write)
          }
        ),
        (
          "truncated header then EOF",
          {
            try $0.send([0, 0, 0])
            try $0.socket.shutdown(.write)
          }
        ),
      ]
      for (name, abuse) in abuses {
        let raw = try RawConnection(path)
        defer { raw.close() }
        try abuse(raw)
        #expect(try closedWithoutAnswer(raw), "\(name): expected the server to close")
        #expect(try bystander.call(EchoRequest(text: name)).text == name)
      }
      try expectStillServing(path)
    }
  }

  @Test func sixtyFiveAttachedDescriptorsCloseTheConnection() throws {
    try withServer(fullTable()) { path, _ in
      let raw = try RawConnection(path)
      defer { raw.close() }
      let efd = try EventFD.create()
      defer { try? efd.close() }
      let body = Array(#"{"method":"xcsh.test_echo","value":{"text":"x","files":[]}}"#.utf8)
      try raw.send(FrameHeader(bodyLength: UInt64(body.count), descriptorCount: 64).bytes)
      try raw.send(body, fds: Array(repeating: efd.fileDescriptor, count: 65))
      #expect(try closedWithoutAnswer(raw))
      try expectStillServing(path)
    }
  }

  @Test func moreDescriptorsThanAnnouncedCloseTheConnection() throws {
    try withServer(fullTable()) { path, _ in
      let raw = try RawConnection(path)
      defer { raw.close() }
      let efd = try EventFD.create()
      defer { try? efd.close() }
      let body = Array(#"{"method":"xcsh.test_echo","value":{"text":"x","files":[]}}"#.utf8)
      try raw.send(FrameHeader(bodyLength: UInt64(body.count), descriptorCount: 1).bytes)
      try raw.send(body, fds: [efd.fileDescriptor, efd.fileDescriptor])
      #expect(try closedWithoutAnswer(raw))
    }
  }

  @Test func deeplyNestedPayloadsAreRejectedWithoutCrashing() throws {
    try withServer(fullTable()) { path, _ in
      for payload in [
        String(repeating: "[", count: 100_000), String(repeating: "{\"a\":", count: 50_000) + "1",
      ] {
        let raw = try RawConnection(path)
        defer { raw.close() }
        try raw.sendRequest(#"{"method":"exec","value":"# + payload + "}")
        // Not valid JSON at all (unbalanced): the connection is closed, nothing else.
        #expect(try closedWithoutAnswer(raw))
      }
      let raw = try RawConnection(path)
      defer { raw.close() }
      let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
      try raw.sendRequest(#"{"method":"exec","value":"# + deep + "}")
      let a = try raw.answer()
      #expect(a == nil || a?.errno == 22)
      try expectStillServing(path)
    }
  }

  @Test func headerAndBodySplitAcrossManyWritesStillWork() throws {
    try withServer(fullTable()) { path, _ in
      let raw = try RawConnection(path)
      defer { raw.close() }
      let bytes = frameBytes(
        Array(#"{"method":"xcsh.test_echo","value":{"text":"slow","files":[]}}"#.utf8))
      for b in bytes { try raw.send([b]) }  // one byte per write: partial reads everywhere
      let a = try #require(try raw.answer())
      #expect(a.errno == 0)
    }
  }

  @Test func pipelinedRequestsAreAnsweredInOrder() throws {
    try withServer(fullTable()) { path, _ in
      let raw = try RawConnection(path)
      defer { raw.close() }
      var all: [UInt8] = []
      for i in 0..<20 {
        all += frameBytes(
          Array(#"{"method":"xcsh.test_echo","value":{"text":"\#(i)","files":[]}}"#.utf8))
      }
      try raw.send(all)
      for i in 0..<20 {
        let f = try #require(try raw.channel.receive())
        guard case .success(let r) = try Envelope.decodeResponse(EchoResponse.self, from: f.body)
        else {
          Issue.record("error answer")
          return
        }
        #expect(r.text == "\(i)")
      }
    }
  }
}
