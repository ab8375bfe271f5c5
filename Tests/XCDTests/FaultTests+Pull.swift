import Foundation
import Testing
import XCIPC

/// `kill -9` of xcd in the middle of `pull_image` from a real registry on loopback (a 32 MiB
/// layer of noise, so the pull is caught while it downloads). After the restart: the image is
/// not listed, staging is empty, every stored blob matches its digest, and the same pull then
/// completes and the image runs.
extension FaultTests {
  /// Largest file below `dir` (the pull's staging), in bytes.
  func largestFile(under dir: String) -> Int {
    var largest = 0
    let e = FileManager.default.enumerator(atPath: dir)
    while let path = e?.nextObject() as? String {
      if let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + path))?[.size] as? Int {
        largest = max(largest, size)
      }
    }
    return largest
  }

  @Test func killNineDuringPullThenRestart() throws {
    let registry = try LoopbackRegistry()
    defer { registry.stop() }
    let registryTests = RegistryTests()
    let remote = "\(registry.host)/big:1"
    let size = 32 << 20
    // A first daemon makes the image (busybox plus a layer of noise) and pushes it.
    try withDaemon { source in
      let client = try source.client()
      try Fixtures.importImage(client)
      let exited = try Storage.sleeper(client, name: "src")
      let wrote = try Storage.exec(client, "src", "dd if=/dev/urandom of=/big bs=1M count=\(size >> 20) 2>/dev/null; echo ok")
      #expect(wrote.output == "ok\n", "\(wrote)")
      _ = try client.call(CommitRequest(containerName: "src", name: "big", tag: "1"))
      try Storage.kill(client, "src", exited)
      let pushed = try registryTests.push(client, "big:1", remote)
      #expect(pushed.done && pushed.fault == nil, "\(pushed)")
    }

    let daemon = try DaemonHarness()
    defer {
      try? daemon.stop()  // a no-op unless a failure left it running
      daemon.remove()
    }
    try daemon.start()
    let client = try daemon.client()
    _ = try client.call(PullImageRequest(imageReference: remote))
    // Until a layer is part-way in staging (past 1 MiB), then the crash.
    let tmp = daemon.stateDir + "/tmp"
    let deadline = Date().addingTimeInterval(60)
    var staged = 0
    while Date() < deadline {
      staged = largestFile(under: tmp)
      if staged > 1 << 20 { break }
      if try client.call(DownloadStatRequest(imageReference: remote)).state == .done { break }
      usleep(1_000)  // polling the staging area, bounded by the deadline
    }
    try daemon.crash()
    #expect(staged > 1 << 20, "the pull was not caught in flight (largest staged file \(staged) bytes)")

    try daemon.start()
    try expectRecovered(daemon, images: [])
    #expect(daemon.log.contains("did not stop cleanly"), "the restart did not re-verify the blobs")
    let status = try registryTests.pull(try daemon.client(), remote).0
    #expect(status.state == .done && status.fault == nil, "\(status)")
    let ran = try registryTests.run(try daemon.client(), remote, ["/bin/sh", "-c", "wc -c < /big"])
    #expect(ran.0.trimmingCharacters(in: .whitespacesAndNewlines) == "\(size)" && ran.1 == 0, "\(ran)")
    try Storage.waitGone(try daemon.client())
    try daemon.stop()
    daemon.expectClean()
    reportFigure(
      "pull crash: kill -9 with \(staged >> 20) MiB of a \(size >> 20) MiB layer staged; after the restart nothing listed, staging empty, blobs verified, the pull completes and runs")
  }
}
