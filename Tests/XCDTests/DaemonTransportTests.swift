import Foundation
import SystemPackage
import Testing
import XCIPC

@testable import XCObjects

/// A daemon stand-in: answers from a table of canned JSON per method and records each call.
final class FakeDaemon: XCCaller, @unchecked Sendable {
  private let lock = NSLock()
  private(set) var calls: [String] = []
  var answers: [String: String]
  var refuse = false
  /// After `kill_container`, `list_containers` answers `[]` (the container is gone).
  var killEmptiesList = false

  init(answers: [String: String] = [:]) { self.answers = answers }

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    if refuse { throw IPCError(.noDaemon, "no daemon is listening at /fake.sock") }
    lock.lock()
    calls.append("\(R.method) \(TracingCaller.json(request, limit: 1000))")
    if killEmptiesList, R.method == "kill_container" { answers["list_containers"] = "[]" }
    lock.unlock()
    guard let text = answers[R.method] else {
      throw IPCError(.daemon, method: R.method, "ENOENT: no such thing")
    }
    do {
      return try WireDecoder().decode(R.Response.self, from: Array(text.utf8))
    } catch {
      throw IPCError(.decoding, method: R.method, "\(error)")
    }
  }
}

/// Lines written by a transport.
final class Lines: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var all: [String] = []
  func write(_ s: String) {
    lock.lock()
    all.append(s)
    lock.unlock()
  }
}

/// The transports under the shell's daemon session, against a fake daemon.
@Suite struct DaemonTransportTests {
  @Test func traceWritesMethodRequestResultAndTime() throws {
    let fake = FakeDaemon(answers: ["list_containers": "[]"])
    let lines = Lines()
    let t = TracingCaller(inner: fake, write: lines.write)
    _ = try t.call(ListContainersRequest())
    #expect(throws: IPCError.self) { try t.call(KillContainerRequest(name: "nope")) }
    #expect(lines.all.count == 2)
    #expect(lines.all[0].hasPrefix("trace: list_containers null -> ok [] ("), "\(lines.all)")
    #expect(lines.all[1].hasPrefix(#"trace: kill_container {"name":"nope"} -> error ENOENT: no such thing ("#), "\(lines.all)")
    // Elapsed time in milliseconds closes each line.
    #expect(lines.all.allSatisfy { $0.range(of: #"\(\d+\.\d ms\)\n$"#, options: .regularExpression) != nil })
  }

  @Test func dryRunPlansChangesAndSendsOnlyReads() throws {
    let fake = FakeDaemon(answers: ["list_containers": "[]"])
    let lines = Lines()
    let d = DryRunCaller(inner: fake, write: lines.write)
    var r = InstantiateRequest(
      imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "sleep", entryPointArgs: ["100"]),
      name: "web")
    r.ipreq = [.any(network: "front")]
    r.envs = ["B": "2", "A": "x y"]
    let id = try d.call(r).id
    #expect(id == "dry-run-1")
    // A placeholder container can be shown, by id or name, without the daemon.
    #expect(try d.call(ShowContainerRequest(id: "web")).runningContainer.id == "dry-run-1")
    _ = try d.call(KillContainerRequest(name: "web"))
    _ = try d.call(CreateNetworkRequest(name: "front", subnet: "10.9.0.0/24"))
    #expect(try d.call(CommitRequest(containerName: "web", name: "app", tag: "1")).commitId == "dry-run-2")
    _ = try d.call(ListContainersRequest())
    #expect(fake.calls == ["list_containers null"], "only the read reached the daemon")
    #expect(
      lines.all == [
        #"+ instantiate image=busybox:latest name=web network=front cmd="sleep 100" env="A=x y,B=2""# + "\n",
        "+ kill_container name=web\n",
        "+ create_network name=front subnet=10.9.0.0/24\n",
        "+ commit container=web name=app tag=1\n",
      ])
  }

  @Test func dryRunReadsAnswerEmptyWithoutADaemon() throws {
    let fake = FakeDaemon()
    fake.refuse = true
    let d = DryRunCaller(inner: fake, write: { _ in })
    #expect(try d.call(ListContainersRequest()).isEmpty)
    #expect(try d.call(ListAllImagesRequest()).manifests.isEmpty)
    #expect(try d.call(ListVolumesRequest()).isEmpty)
  }

  @Test func dryRunImagesPlannedByImportCommitAndTagCanBeDescribed() throws {
    let fake = FakeDaemon()
    fake.refuse = true
    let d = DryRunCaller(inner: fake, write: { _ in })
    let devNull = try FileDescriptor.open("/dev/null", .readOnly)
    defer { try? devNull.close() }
    _ = try d.call(FdImportRequest(fd: FDRef(devNull), config: JailConfig(secureLevel: 0), imageReference: "base:1"))
    _ = try d.call(CommitRequest(containerName: "web", name: "app", tag: "2"))
    _ = try d.call(TagImageRequest(imageReference: "app:2", newReference: "app:latest"))
    for ref in ["base:1", "app:2", "app:latest"] {
      #expect(try d.call(DescribeImageRequest(imageReference: ref)).imageReference == ref)
    }
    // An image nobody planned is still the daemon's business (here: none answers).
    #expect(throws: IPCError.self) { try d.call(DescribeImageRequest(imageReference: "other:1")) }
    #expect(fake.calls.isEmpty)
  }

  @Test func ephemeralRemovesWhatWasCreatedNewestFirst() throws {
    let fake = FakeDaemon(answers: [
      "instantiate": #"{"id":"c1","require_clearence":[]}"#, "create_network": "null", "create_volume": "null",
      "commit": #"{"commit_id":"x"}"#, "kill_container": "{}", "xcsh.remove_network": "null",
      "xcsh.remove_volume": "null", "remove_image": "null",
    ])
    let e = EphemeralCaller(inner: fake)
    _ = try e.call(CreateNetworkRequest(name: "n1"))
    _ = try e.call(CreateVolumeRequest(name: "v1", kind: .directory))
    _ = try e.call(InstantiateRequest(imageReference: "busybox:latest", name: "web"))
    _ = try e.call(CommitRequest(containerName: "web", name: "app", tag: "1"))
    _ = try e.call(CreateNetworkRequest(name: "gone"))
    _ = try e.call(RemoveNetworkRequest(name: "gone"))  // removed by the script: not again
    // The container is live at clean-up, then gone once killed.
    fake.answers["list_containers"] = #"[{"name":"web","id":"c1"}]"#
    fake.killEmptiesList = true
    let before = fake.calls.count
    let (removed, failures) = e.cleanUp()
    #expect(failures.isEmpty, "\(failures)")
    #expect(removed.map(\.description) == ["image app:1", "container web (c1)", "volume v1", "network n1"])
    let sent = fake.calls[before...].filter { !$0.hasPrefix("list_containers") }
    #expect(
      Array(sent) == [
        #"remove_image "app:1""#, #"kill_container {"name":"c1"}"#, #"xcsh.remove_volume {"name":"v1"}"#,
        #"xcsh.remove_network {"name":"n1"}"#,
      ])
  }

  @Test func embeddedDaemonLocation() throws {
    // xcd is built next to the test bundle, as next to xcsh.
    let sibling = EmbeddedDaemon.findBinary(["PATH": ""])
    #expect(sibling?.hasSuffix("/xcd") == true, "\(String(describing: sibling))")
    #expect(EmbeddedDaemon.findBinary(["XCSH_XCD": "/nonexistent/xcd"]) == nil)
    let d = try #require(EmbeddedDaemon.forThisProcess(environment: ["XCSH_EMBEDDED_DIR": "/tmp/x-embedded"]))
    #expect(d.socketPath == "/tmp/x-embedded/xcd.sock")
    #expect(d.stateDir == "/tmp/x-embedded/state")
    if getuid() == 0 {
      let root = try #require(EmbeddedDaemon.forThisProcess(environment: ["XDG_RUNTIME_DIR": "/run/user/0"]))
      #expect(root.directory == "/run/xcsh-0/embedded-\(getpid())")
    }
  }
}
