import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
import XCSystem

/// Clients that break the protocol on purpose, against a running xcd: after each one the
/// daemon must still serve a well-behaved client, its state must be what it was, and it must
/// not keep the hostile connection's descriptors.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct HostileClientTests {
  /// A raw connection: bytes and descriptors exactly as given, no framing help.
  struct Raw {
    let socket: Socket
    init(_ daemon: DaemonHarness) throws { socket = try Socket.connect(toUnixPath: daemon.socket) }

    func send(_ bytes: [UInt8], fds: [FileDescriptor] = []) throws {
      // withUnsafeBytes rethrows untyped errors only; carry the Errno out by hand.
      var failure: Errno?
      bytes.withUnsafeBytes { p in
        do throws(Errno) { try socket.sendAll(p, passing: fds) } catch { failure = error }
      }
      if let failure { throw failure }
    }

    func frame(_ body: [UInt8], announcing fds: UInt64 = 0, attaching: [FileDescriptor] = [])
      throws
    {
      try send(FrameHeader(bodyLength: UInt64(body.count), descriptorCount: fds).bytes)
      try send(body, fds: attaching)
    }

    /// True once the daemon has closed its end (EOF after any bytes it sent).
    func closedByDaemon(seconds: Double = 20) -> Bool {
      let deadline = Date().addingTimeInterval(seconds)
      var buffer = [UInt8](repeating: 0, count: 4096)
      while Date() < deadline {
        var pfd = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 100) > 0 else { continue }
        let n = buffer.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, 0) }
        if n == 0 || (n < 0 && errno == ECONNRESET) { return true }
      }
      return false
    }

    func close() { try? socket.close() }
  }

  /// A well-behaved client is served, and the daemon's containers and images are `expected`.
  func expectServing(
    _ daemon: DaemonHarness, containers: [String] = [], images: [String] = ["busybox:latest"],
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let client = try daemon.client()
    defer { client.close() }
    let info = try client.call(InfoRequest())
    #expect(info.config.socketPath == daemon.socket, "after \(what)", sourceLocation: sourceLocation)
    let names = try client.call(ListContainersRequest()).map(\.name).sorted()
    #expect(names == containers.sorted(), "after \(what)", sourceLocation: sourceLocation)
    let refs = try client.call(ListAllImagesRequest()).manifests.map(\.imageReference).sorted()
    #expect(refs == images.sorted(), "after \(what)", sourceLocation: sourceLocation)
  }

  /// The daemon's open descriptors (polled until they settle back to `baseline` or below).
  func openFDs(_ daemon: DaemonHarness) -> Int {
    guard let pid = daemon.process?.processIdentifier else { return -1 }
    return (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
  }

  func expectFDsBack(
    _ daemon: DaemonHarness, to baseline: Int, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let deadline = Date().addingTimeInterval(20)
    var now = openFDs(daemon)
    while now > baseline && Date() < deadline {
      usleep(20_000)  // polling the daemon's fd table, bounded by the deadline
      now = openFDs(daemon)
    }
    #expect(now <= baseline, "xcd holds \(now) fds after \(what), \(baseline) before",
      sourceLocation: sourceLocation)
  }

  @Test func malformedFramesCloseOnlyTheirConnection() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      // A container running throughout: hostile clients must not disturb it.
      let keep = try daemon.client()
      _ = try keep.call(
        InstantiateRequest(
          imageReference: "busybox:latest",
          entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]), name: "keep"))
      try expectServing(daemon, containers: ["keep"], "setup")
      let baseline = openFDs(daemon)
      var rng = SystemRandomNumberGenerator()

      // Pure noise, framed (the body is not an envelope) and unframed (a lying header).
      for round in 0..<20 {
        let raw = try Raw(daemon)
        let noise = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if round % 2 == 0 { try raw.frame(noise) } else { try raw.send(noise) }
        if round % 2 == 0 {
          #expect(raw.closedByDaemon(), "noise body, round \(round)")
        }
        raw.close()
      }
      try expectServing(daemon, containers: ["keep"], "noise")

      // A header announcing more than the cap: closed before any body is read.
      let huge = try Raw(daemon)
      try huge.send(FrameHeader(bodyLength: 1 << 40, descriptorCount: 0).bytes)
      #expect(huge.closedByDaemon(), "a 1 TiB body")
      huge.close()
      // More descriptors announced than the cap.
      let manyFDs = try Raw(daemon)
      try manyFDs.send(FrameHeader(bodyLength: 10, descriptorCount: 65).bytes)
      #expect(manyFDs.closedByDaemon(), "65 descriptors announced")
      manyFDs.close()
      try expectServing(daemon, containers: ["keep"], "lying lengths")

      // A lying length under the cap, then the client goes away mid-frame.
      let truncated = try Raw(daemon)
      try truncated.send(FrameHeader(bodyLength: 1000, descriptorCount: 0).bytes + Array("{\"meth".utf8))
      try truncated.socket.shutdown(.write)
      #expect(truncated.closedByDaemon(), "a truncated frame")
      truncated.close()
      // Only half a header.
      let half = try Raw(daemon)
      try half.send([0, 0, 0, 0, 0, 0])
      half.close()
      try expectServing(daemon, containers: ["keep"], "truncated frames")

      // Lying descriptor counts: announced but absent, and attached but not announced. The
      // attached descriptors must be closed by the daemon (EOF on our pipe proves it).
      let info = Array(#"{"method":"info","value":null}"#.utf8)
      let absent = try Raw(daemon)
      try absent.frame(info, announcing: 3)
      #expect(absent.closedByDaemon(), "3 descriptors announced, none sent")
      absent.close()
      let pipe = try TestPipe()
      let extra = try Raw(daemon)
      try extra.frame(info, announcing: 0, attaching: [pipe.write!, pipe.write!])
      #expect(extra.closedByDaemon(), "2 descriptors sent, none announced")
      extra.close()
      #expect(try pipe.readAll(seconds: 20) == "", "the daemon kept the unannounced descriptors")
      try expectServing(daemon, containers: ["keep"], "lying descriptor counts")

      expectFDsBack(daemon, to: baseline, "malformed frames")
      _ = try keep.call(KillContainerRequest(name: "keep"))
    }
  }

  /// Whether `{}` is a valid payload of the method (its request has no required field).
  static func takesEmptyObject<R: XCRequest>(_ type: R.Type) -> Bool {
    let body = Array(#"{"method":"\#(R.method)","value":{}}"#.utf8)
    return (try? Envelope.decodeRequest(R.self, from: body)) != nil
  }

  @Test func wrongPayloadTypesForEveryMethodAreAnsweredByName() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let client = try daemon.client()
      let wrong = ["42", "\"text\"", "[1,2]", "true", "{\"image_reference\":7,\"name\":[],\"id\":{}}"]
      var answered = 0
      for type in XCMethods.all + XCMethods.extensions {
        let method = type.method
        for value in wrong {
          let body = Array(#"{"method":"\#(method)","value":\#(value)}"#.utf8)
          let frame = try client.exchange(method: method, body: body)
          guard case .failure(let e) = try Envelope.decodeResponse(JSONValue.self, from: frame.body)
          else {
            // Only a request without fields may take any object (serde ignores unknown keys).
            if !(value.hasPrefix("{") && Self.takesEmptyObject(type)) {
              Issue.record("\(method) accepted \(value)")
            }
            answered += 1
            continue
          }
          answered += 1
          #expect(e.errno != 0, "\(method) \(value)")
          if e.errno == 22 {
            #expect(e.value.text.contains(method), "\(method) \(value): \(e.value.text)")
          }
        }
      }
      #expect(answered == (XCMethods.all.count + XCMethods.extensions.count) * wrong.count)
      // The same connection is still in step, and the state unchanged.
      #expect(try client.call(ListContainersRequest()).isEmpty)
      try expectServing(daemon, "wrong payload types")

      // Invalid names are refused at the daemon, naming the field.
      let bad: [(InstantiateRequest, String)] = [
        (InstantiateRequest(imageReference: "busybox:latest", name: "a/b"), "instantiate: name"),
        (InstantiateRequest(imageReference: "busybox:latest", name: String(repeating: "x", count: 65)), "instantiate: name"),
        (InstantiateRequest(imageReference: "busybox:latest", name: "-rf"), "instantiate: name"),
        (InstantiateRequest(imageReference: "../../etc:x"), "instantiate: image_reference"),
        (InstantiateRequest(imageReference: "busybox"), "instantiate: image_reference"),
        (InstantiateRequest(imageReference: "busybox:latest", hostname: "a b"), "instantiate: hostname"),
      ]
      for (request, field) in bad {
        let e = try daemonError { try client.call(request) }
        #expect(e.errno == 22 && e.value.text.contains(field), "\(e)")
      }
      let kill = try daemonError { try client.call(KillContainerRequest(name: "x\ny")) }
      #expect(kill.errno == 22 && kill.value.text.contains("name"), "\(kill)")
      try expectServing(daemon, "invalid names")
    }
  }

  @Test func idleConnectionsAndMidRequestDisconnects() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let baseline = openFDs(daemon)

      // 200 idle connections: everyone else is still served, promptly.
      var idle: [Raw] = []
      for _ in 0..<200 { idle.append(try Raw(daemon)) }
      let start = Date()
      try expectServing(daemon, "200 idle connections")
      #expect(Date().timeIntervalSince(start) < 10)
      for r in idle { r.close() }
      expectFDsBack(daemon, to: baseline, "200 idle connections closed")

      // A client that sends a whole instantiate and leaves without reading the answer: the
      // container is made (the request was complete) and is as manageable as any other.
      let gone = try Raw(daemon)
      let (body, _) = try Envelope.encodeRequest(
        InstantiateRequest(
          imageReference: "busybox:latest",
          entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]), name: "orphan"))
      try gone.frame(body)
      gone.close()
      let client = try daemon.client()
      let deadline = Date().addingTimeInterval(30)
      while try client.call(ListContainersRequest()).isEmpty && Date() < deadline {
        usleep(50_000)  // waiting for the abandoned request to finish, bounded
      }
      try expectServing(daemon, containers: ["orphan"], "a disconnect after instantiate")
      _ = try client.call(KillContainerRequest(name: "orphan"))

      // An import whose client disconnects while the daemon reads its archive: it fails,
      // and nothing half-imported is listed.
      let pipe = try TestPipe()
      let importer = try Raw(daemon)
      let (importBody, fds) = try Envelope.encodeRequest(
        FdImportRequest(fd: FDRef(pipe.write!), config: JailConfig(secureLevel: 0), imageReference: "half:1"))
      _ = fds
      // The daemon reads the archive from the descriptor we send: give it our read end.
      try importer.frame(importBody, announcing: 1, attaching: [pipe.read])
      let archive = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.archive()))
      try archive.prefix(4096).withUnsafeBytes { _ = try pipe.write!.writeAll($0) }
      importer.close()
      pipe.closeWrite()  // the archive ends mid-member
      let waitUntil = Date().addingTimeInterval(30)
      while daemon.log.contains("fd_import failed") == false && Date() < waitUntil {
        usleep(50_000)  // waiting for the import to fail, bounded
      }
      #expect(daemon.log.contains("fd_import failed"), "the truncated import did not fail")
      let deadline2 = Date().addingTimeInterval(30)
      while try !client.call(ListContainersRequest()).isEmpty && Date() < deadline2 {
        usleep(50_000)  // the killed container's teardown, bounded
      }
      try expectServing(daemon, "a disconnect mid-import")
      expectFDsBack(daemon, to: baseline + 1, "disconnects")  // + `client`
    }
  }

  /// `copies` destinations that try to leave the container's root (`..`, a symlink the image
  /// put there, a symlink as the file itself) are refused; a plain one works.
  @Test func copiesAreConfinedToTheContainer() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let payload = daemon.dir + "/payload"
      try "copied\n".write(toFile: payload, atomically: true, encoding: .utf8)
      func instantiate(copyTo destination: String, name: String) throws -> InstantiateRequest {
        let fd = try FileDescriptor.open(payload, .readOnly)
        var r = InstantiateRequest(
          imageReference: "busybox:latest",
          entryPoint: EntryPoint(entryPoint: "/bin/cat", entryPointArgs: [destination]), name: name)
        r.copies = [CopyFile(source: FDRef(fd), destination: OsString(destination))]
        return r
      }
      // /bin/sh is a symlink to busybox in the test image.
      for (i, destination) in ["/../../../tmp/xc-escape", "/bin/sh/../../tmp/xc-escape", "/bin/sh", "relative"].enumerated() {
        let e = try daemonError { try client.call(try instantiate(copyTo: destination, name: "copy-\(i)")) }
        #expect(e.errno != 0 && e.value.text.contains(destination.split(separator: "/").first.map(String.init) ?? destination), "\(destination): \(e)")
      }
      #expect(!FileManager.default.fileExists(atPath: "/tmp/xc-escape"))

      // Host mounts may not reach into the daemon's own state, nor use '..' to get there.
      for source in [daemon.stateDir + "/blobs", daemon.stateDir, daemon.dir + "/x/../state"] {
        let evidence = try FileDescriptor.open(daemon.stateDir, .readOnly)
        defer { try? evidence.close() }
        var r = InstantiateRequest(
          imageReference: "busybox:latest",
          entryPoint: EntryPoint(entryPoint: "/bin/true"), name: "mount-state")
        r.mountReq = [MountRequest(source: OsString(source), dest: "/mnt", evid: FDRef(evidence))]
        let e = try daemonError { try client.call(r) }
        #expect(e.errno == 22 && e.value.text.contains("instantiate: mount_req[0].source"), "\(source): \(e)")
      }
      #expect(try client.call(ListContainersRequest()).isEmpty)
      let out = try TestPipe()
      var good = try instantiate(copyTo: "/etc/copied", name: "copy-ok")
      good.stdout = out.writeRef
      _ = try client.call(good)
      #expect(try out.readAll() == "copied\n")
    }
  }
}
