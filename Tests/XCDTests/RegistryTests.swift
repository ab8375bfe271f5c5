import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// End to end: a real xcd pulling from and pushing to a real registry (`docker-registry`) on
/// loopback, with no auth, HTTP Basic (htpasswd) and the Bearer token flow. Serialized: each
/// test runs a registry, one or two daemons and containers on a 2-core machine.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct RegistryTests {
  // MARK: - Helpers

  /// Polls upload_stat until the push is done or faulted.
  func waitPush(_ client: XCClient, _ local: String, _ remote: String) throws -> PushImageStatus {
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let s = try client.call(UploadStatRequest(imageReference: local, remoteReference: remote))
      if s.done || s.fault != nil { return s }
      usleep(10_000)  // polling the daemon's progress, bounded by the deadline
    }
    throw TestFailure("push of \(local) to \(remote) did not finish within 120 s")
  }

  func push(_ client: XCClient, _ local: String, _ remote: String, insecure: Bool = false) throws
    -> PushImageStatus
  {
    _ = try client.call(PushImageRequest(imageReference: local, remoteReference: remote, insecure: insecure))
    return try waitPush(client, local, remote)
  }

  /// Polls download_stat until Done or Faulted; returns the last status and every one seen.
  func waitPull(_ client: XCClient, _ reference: String) throws -> (ImportImageStatus, [ImportImageStatus]) {
    var seen: [ImportImageStatus] = []
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let s = try client.call(DownloadStatRequest(imageReference: reference))
      seen.append(s)
      if s.state == .done || s.state == .faulted { return (s, seen) }
      usleep(2_000)  // polling the daemon's progress, bounded by the deadline
    }
    throw TestFailure("pull of \(reference) did not finish within 120 s: \(seen.last.map { "\($0)" } ?? "")")
  }

  func pull(_ client: XCClient, _ reference: String, rename: String? = nil) throws -> (ImportImageStatus, [ImportImageStatus]) {
    let answer = try client.call(PullImageRequest(imageReference: reference, renameReference: rename))
    #expect(answer.existed == false)
    return try waitPull(client, reference)
  }

  /// Runs `argv` in a container of `image`; returns its stdout and exit code.
  func run(_ client: XCClient, _ image: String, _ argv: [String]) throws -> (String, Int32?) {
    let out = try TestPipe()
    let exited = try TestEventFD()
    var r = InstantiateRequest(
      imageReference: image,
      entryPoint: EntryPoint(entryPoint: argv[0], entryPointArgs: Array(argv.dropFirst())))
    r.stdout = out.writeRef
    r.mainExitedFd = exited.ref
    _ = try client.call(r)
    let text = try out.readAll()
    return (text, try exited.exitStatus().exitCode)
  }

  /// `skopeo copy` of a test image archive into the registry (its own client, no xcd).
  func seed(_ archive: String, to reference: String, format: String? = nil) throws {
    var argv = ["/usr/bin/skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
    if let format { argv += ["--format", format] }
    argv += ["oci-archive:" + archive, "docker://" + reference]
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    let err = Pipe()
    p.standardError = err
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw TestFailure("skopeo copy failed: \(text)") }
  }

  /// Nothing of a pull or push is left in the daemon's staging dir.
  func expectNoStaging(_ daemon: DaemonHarness, sourceLocation: SourceLocation = #_sourceLocation) {
    let left = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/tmp")) ?? []
    #expect(left.isEmpty, "staging left: \(left)", sourceLocation: sourceLocation)
  }

  func withRegistry(_ auth: LoopbackRegistry.Auth = .none, _ body: (LoopbackRegistry) throws -> Void) throws {
    let registry = try LoopbackRegistry(auth: auth)
    defer {
      registry.stop()
      #expect(!registry.isRunning, "registry process left running")
      #expect(!FileManager.default.fileExists(atPath: registry.dir), "registry dir left")
    }
    try body(registry)
  }

  static var hostArch: String {
    var u = utsname()
    uname(&u)
    let machine = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return machine == "aarch64" ? "arm64" : "amd64"
  }

  // MARK: - Tests

  @Test func pushThenPullIntoAFreshDaemonAndRun() throws {
    try withRegistry { registry in
      let remote = "\(registry.host)/test/busybox:1"
      var pushedDigest = ""
      try withDaemon { a in
        let client = try a.client()
        try Fixtures.importImage(client)
        pushedDigest = try client.call(DescribeImageRequest(imageReference: "busybox:latest")).digest
        let s = try push(client, "busybox:latest", remote)
        #expect(s.fault == nil, "\(s)")
        #expect(s.done && s.pushConfig && s.pushManifest)
        #expect(s.layers.count == 1 && s.layers[0].hasPrefix("sha256:"))
        // Again: every blob is there already (HEAD), the manifest is put again.
        let again = try push(client, "busybox:latest", remote)
        #expect(again.done && again.fault == nil, "\(again)")
        expectNoStaging(a)
      }
      try withDaemon { b in
        let client = try b.client()
        let (status, seen) = try pull(client, remote, rename: "pulled:1")
        #expect(status.state == .done, "\(status)")
        #expect(status.fault == nil)
        #expect(status.manifest?.layers.count == 1)
        // Per-layer progress: every layer complete, with the manifest's sizes.
        let sizes = status.manifest?.layers.map(\.size) ?? []
        #expect(status.layers?.map(\.total) == sizes)
        #expect(status.layers?.map(\.downloaded) == sizes)
        // States only move forward, and byte counts never go back.
        let order: [DownloadState] = [.downloadManifest, .downloadConfig, .downloadLayers, .extractLayers, .done]
        let indices = seen.map { order.firstIndex(of: $0.state) ?? -1 }
        #expect(!indices.contains(-1) && indices == indices.sorted(), "\(seen.map(\.state))")
        var last: [Int] = []
        for s in seen {
          let now = s.layers?.map(\.downloaded) ?? []
          if !last.isEmpty && !now.isEmpty { #expect(zip(last, now).allSatisfy { $0 <= $1 }) }
          if !now.isEmpty { last = now }
        }

        let images = try client.call(ListAllImagesRequest()).manifests.map(\.imageReference).sorted()
        #expect(images == ["pulled:1", remote].sorted())
        // The same image: xc's digest of its config is the one pushed.
        #expect(try client.call(DescribeImageRequest(imageReference: remote)).digest == pushedDigest)
        let (out, code) = try run(client, "pulled:1", ["/bin/echo", "pulled and running"])
        #expect(out == "pulled and running\n" && code == 0)
        expectNoStaging(b)
      }
    }
  }

  @Test func pullsSkopeoSeededImagesInOCIAndDockerFormats() throws {
    try withRegistry { registry in
      let archive = try Fixtures.archive(["--two-layers", "--compression", "zstd"])
      try seed(archive, to: "\(registry.host)/two:oci")
      try seed(try Fixtures.archive(["--two-layers"]), to: "\(registry.host)/two:docker", format: "v2s2")
      try withDaemon { daemon in
        let client = try daemon.client()
        for tag in ["oci", "docker"] {
          let ref = "\(registry.host)/two:\(tag)"
          let (status, _) = try pull(client, ref)
          #expect(status.state == .done, "\(tag): \(status)")
          #expect(status.layers?.count == 2)
          if tag == "docker" {
            #expect(status.manifest?.mediaType == "application/vnd.docker.distribution.manifest.v2+json")
          }
          // Layer 2's whiteout removed /bin/ls and added /etc/motd.
          let (out, code) = try run(client, ref, ["/bin/sh", "-c", "cat /etc/motd; test -e /bin/ls || echo no-ls"])
          #expect(out == "welcome to layer 2\nno-ls\n" && code == 0, "\(tag): \(out)")
        }
        // By digest: the manifest's own digest names the same image.
        let described = try client.call(DescribeImageRequest(imageReference: "\(registry.host)/two:oci"))
        #expect(!described.digest.isEmpty)
        expectNoStaging(daemon)
      }
    }
  }

  @Test func indexPicksTheHostPlatform() throws {
    try withRegistry { registry in
      try seed(try Fixtures.archive(), to: "\(registry.host)/multi:one")
      try seed(try Fixtures.archive(["--two-layers"]), to: "\(registry.host)/multi:two")
      // An index: the two-layer image for the other architecture, the one-layer for ours.
      func manifestDescriptor(_ tag: String) throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://\(registry.host)/v2/multi/manifests/\(tag)")!)
        request.setValue("application/vnd.oci.image.manifest.v1+json", forHTTPHeaderField: "Accept")
        let (data, type) = try fetch(request)
        return ["mediaType": type, "size": data.count, "digest": "sha256:" + sha256Hex(data)]
      }
      let other = Self.hostArch == "amd64" ? "arm64" : "amd64"
      var foreign = try manifestDescriptor("two")
      foreign["platform"] = ["os": "linux", "architecture": other]
      var native = try manifestDescriptor("one")
      native["platform"] = ["os": "linux", "architecture": Self.hostArch]
      let index: [String: Any] = [
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [foreign, native],
      ]
      var put = URLRequest(url: URL(string: "http://\(registry.host)/v2/multi/manifests/both")!)
      put.httpMethod = "PUT"
      put.setValue("application/vnd.oci.image.index.v1+json", forHTTPHeaderField: "Content-Type")
      put.httpBody = try JSONSerialization.data(withJSONObject: index)
      let (_, _) = try fetch(put, expect: 201)

      try withDaemon { daemon in
        let client = try daemon.client()
        let (status, _) = try pull(client, "\(registry.host)/multi:both")
        #expect(status.state == .done, "\(status)")
        #expect(status.manifest?.layers.count == 1, "the foreign two-layer image was chosen")
        let (out, _) = try run(client, "\(registry.host)/multi:both", ["/bin/sh", "-c", "test -e /etc/motd && echo motd || echo plain"])
        #expect(out == "plain\n")
      }
    }
  }

  @Test func loginWithHtpasswdThenPushAndPull() throws {
    let password = "pa55-\(UUID().uuidString.prefix(8))"
    try withRegistry(.htpasswd(user: "alice", password: password)) { registry in
      let remote = "\(registry.host)/private/bb:1"
      try withDaemon { daemon in
        let client = try daemon.client()
        try Fixtures.importImage(client)

        // No login: the registry's Basic challenge cannot be answered.
        let anonymous = try push(client, "busybox:latest", remote)
        #expect(anonymous.fault?.contains("needs credentials") == true, "\(anonymous)")

        // A wrong password: a clear refusal naming the user.
        _ = try client.call(LoginRequest(username: "alice", password: "wrong", server: registry.host, insecure: true))
        let refused = try push(client, "busybox:latest", remote)
        #expect(refused.fault?.contains("refused the credentials of alice") == true, "\(refused)")
        let refusedPull = try daemonError { try client.call(PullImageRequest(imageReference: remote)) }
        #expect(refusedPull.errno == 13 && refusedPull.value.text.contains("refused the credentials of alice"), "\(refusedPull)")

        // The right one: push and pull work.
        _ = try client.call(LoginRequest(username: "alice", password: password, server: registry.host, insecure: true))
        let pushed = try push(client, "busybox:latest", remote)
        #expect(pushed.done && pushed.fault == nil, "\(pushed)")
        _ = try client.call(RemoveImageRequest(imageReference: "busybox:latest"))
        let (status, _) = try pull(client, remote)
        #expect(status.state == .done, "\(status)")
        #expect(try run(client, remote, ["/bin/echo", "private"]).0 == "private\n")

        // Credentials: in the registries file, mode 0600, never in the log.
        let info = try client.call(InfoRequest())
        #expect(info.config.registries == daemon.stateDir + "/registries.json")
        var st = stat()
        #expect(stat(info.config.registries, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let file = (try? String(contentsOfFile: info.config.registries, encoding: .utf8)) ?? ""
        #expect(file.contains("\"http://\(registry.host)\"") && file.contains("alice"))
        #expect(!daemon.log.contains(password) && !daemon.log.contains("wrong\""), "a password reached the log")
      }
    }
  }

  @Test func bearerTokenFlowWithLogin() throws {
    try withRegistry(.token(user: "bob", password: "hunter2")) { registry in
      let remote = "\(registry.host)/tok/bb:1"
      try withDaemon { daemon in
        let client = try daemon.client()
        try Fixtures.importImage(client)

        _ = try client.call(LoginRequest(username: "bob", password: "nope", server: registry.host, insecure: true))
        let refused = try push(client, "busybox:latest", remote)
        #expect(refused.fault?.contains("token service") == true && refused.fault?.contains("bob") == true, "\(refused)")

        _ = try client.call(LoginRequest(username: "bob", password: "hunter2", server: registry.host, insecure: true))
        let pushed = try push(client, "busybox:latest", remote)
        #expect(pushed.done && pushed.fault == nil, "\(pushed)")
        let (status, _) = try pull(client, remote, rename: "tok:local")
        #expect(status.state == .done, "\(status)")

        // The token service was asked with the login's credentials for the right scopes.
        let granted = registry.tokenService?.requests.filter(\.granted) ?? []
        #expect(granted.contains { $0.user == "bob" && $0.scopes.contains("repository:tok/bb:pull,push") })
        #expect(granted.contains { $0.user == "bob" && $0.scopes.contains("repository:tok/bb:pull") })
        #expect(granted.allSatisfy { $0.service == "xcd-test" })
        #expect(registry.tokenService?.requests.contains { !$0.granted && $0.user == "bob" } == true)
      }
    }
  }

  @Test func missingTagDownRegistryAndBadInputAreClearErrors() throws {
    try withRegistry { registry in
      try seed(try Fixtures.archive(), to: "\(registry.host)/here:1")
      try withDaemon { daemon in
        let client = try daemon.client()

        // A missing tag: the answer and download_stat say so.
        let ref = "\(registry.host)/here:nosuch"
        let missing = try daemonError { try client.call(PullImageRequest(imageReference: ref)) }
        #expect(missing.errno == 2 && missing.value.text.contains("manifest unknown"), "\(missing)")
        #expect(missing.value.text.contains("here:nosuch"))
        let stat = try client.call(DownloadStatRequest(imageReference: ref))
        #expect(stat.state == .faulted && stat.fault?.contains("manifest unknown") == true, "\(stat)")
        let noRepo = try daemonError {
          try client.call(PullImageRequest(imageReference: "\(registry.host)/nothere/at:all"))
        }
        #expect(noRepo.errno == 2, "\(noRepo)")

        // A registry that is down: nothing listens on a fresh port.
        let down = "127.0.0.1:\(try LoopbackRegistry.freePort())"
        let refused = try daemonError { try client.call(PullImageRequest(imageReference: "\(down)/x:1")) }
        #expect(refused.errno == 61 && refused.value.text.contains("cannot reach the registry \(down)"), "\(refused)")
        try Fixtures.importImage(client)
        let pushDown = try push(client, "busybox:latest", "\(down)/x:1")
        #expect(pushDown.fault?.contains("cannot reach the registry") == true, "\(pushDown)")

        // Bad input, each named.
        let bad = try daemonError { try client.call(PullImageRequest(imageReference: "NoTag")) }
        #expect(bad.errno == 22 && bad.value.text.contains("NoTag"), "\(bad)")
        let badRename = try daemonError {
          try client.call(PullImageRequest(imageReference: "\(registry.host)/here:1", renameReference: "a b"))
        }
        #expect(badRename.errno == 22, "\(badRename)")
        let noLocal = try daemonError {
          try client.call(PushImageRequest(imageReference: "ghost:1", remoteReference: "\(registry.host)/g:1", insecure: false))
        }
        #expect(noLocal == .typed("NoSuchLocalReference"))
        let badServer = try daemonError {
          try client.call(LoginRequest(username: "u", password: "p", server: "a b/c", insecure: false))
        }
        #expect(badServer.errno == 22 && badServer.value.text.contains("a b/c"), "\(badServer)")
        #expect(try client.call(DownloadStatRequest(imageReference: "never:1")).state == .unavailable)
        let unknownPush = try client.call(UploadStatRequest(imageReference: "a:1", remoteReference: "b:1"))
        #expect(unknownPush == PushImageStatus())

        // Still serving; a good pull after all that works.
        let (ok, _) = try pull(client, "\(registry.host)/here:1")
        #expect(ok.state == .done, "\(ok)")
        #expect(try daemon.client().call(InfoRequest()).config.socketPath == daemon.socket)
        expectNoStaging(daemon)
      }
    }
  }

  @Test func corruptBlobInTheRegistryIsRefused() throws {
    try withRegistry { registry in
      try seed(try Fixtures.archive(), to: "\(registry.host)/bad:1")
      // Corrupt the layer where the registry keeps it: same size, other bytes.
      var request = URLRequest(url: URL(string: "http://\(registry.host)/v2/bad/manifests/1")!)
      request.setValue("application/vnd.oci.image.manifest.v1+json", forHTTPHeaderField: "Accept")
      let (manifest, _) = try fetch(request)
      let json = try JSONSerialization.jsonObject(with: manifest) as? [String: Any]
      let layer = ((json?["layers"] as? [[String: Any]])?.first?["digest"] as? String) ?? ""
      let hex = String(layer.dropFirst(7))
      let data = "\(registry.dir)/storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
      var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
      bytes[bytes.count / 2] ^= 0xff
      try Data(bytes).write(to: URL(fileURLWithPath: data))

      try withDaemon { daemon in
        let client = try daemon.client()
        let (status, _) = try pull(client, "\(registry.host)/bad:1")
        #expect(status.state == .faulted, "\(status)")
        #expect(status.fault?.contains("has digest") == true && status.fault?.contains(layer) == true, "\(status)")
        #expect(try client.call(ListAllImagesRequest()).manifests.isEmpty, "a refused image was registered")
        expectNoStaging(daemon)
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/blobs/sha256")) ?? []
        #expect(!blobs.contains(hex), "the corrupt layer reached the store")
      }
    }
  }

  // MARK: - Raw HTTP for test set-up

  func fetch(_ request: URLRequest, expect: Int = 200) throws -> (Data, String) {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Data?, URLResponse?, (any Error)?) = (nil, nil, nil)
    URLSession.shared.dataTask(with: request) { d, r, e in
      result = (d, r, e)
      done.signal()
    }.resume()
    done.wait()
    let status = (result.1 as? HTTPURLResponse)?.statusCode ?? 0
    guard status == expect else {
      throw TestFailure("\(request.httpMethod ?? "GET") \(request.url!): HTTP \(status) \(String(decoding: result.0 ?? Data(), as: UTF8.self)) \(String(describing: result.2))")
    }
    let type = (result.1 as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") ?? ""
    return (result.0 ?? Data(), type)
  }

  func sha256Hex(_ data: Data) -> String {
    let path = "/tmp/xcd-registry-sha-\(getpid())-\(UUID().uuidString.prefix(6))"
    _ = FileManager.default.createFile(atPath: path, contents: data)
    defer { unlink(path) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let out = Pipe()
    p.standardOutput = out
    try? p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return String(text.prefix(64))
  }
}
