import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
import XCSystem

/// Crashes and failures in the middle of work: `kill -9` of xcd during instantiate and during
/// import, a runtime that fails to start containers, a disk that fills during import. After
/// each, the state must be consistent: nothing half-made listed, no mount or process left,
/// the staging area empty, every stored blob matching its digest, and a new container runs.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct FaultTests {
  func sleeper(_ name: String) -> InstantiateRequest {
    InstantiateRequest(
      imageReference: "busybox:latest",
      entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]), name: name)
  }

  /// Every blob under the store hashes to its file name.
  func expectBlobsIntact(_ daemon: DaemonHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let dir = daemon.stateDir + "/blobs/sha256"
    let blobs = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    for hex in blobs {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
      p.arguments = [dir + "/" + hex]
      let out = Pipe()
      p.standardOutput = out
      try p.run()
      let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(text.hasPrefix(hex), "blob \(hex) has content \(text.prefix(64))", sourceLocation: sourceLocation)
    }
  }

  /// After a restart: no staging left, no mounts but the daemon's own, nothing rooted in the
  /// state, and a container runs to completion.
  func expectRecovered(
    _ daemon: DaemonHarness, images: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let client = try daemon.client()
    #expect(try client.call(ListContainersRequest()).isEmpty, sourceLocation: sourceLocation)
    #expect(
      try client.call(ListAllImagesRequest()).manifests.map(\.imageReference).sorted() == images.sorted(),
      sourceLocation: sourceLocation)
    let tmp = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/tmp")) ?? []
    #expect(tmp.isEmpty, "staging left: \(tmp)", sourceLocation: sourceLocation)
    let dirs = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/containers")) ?? []
    #expect(dirs.isEmpty, "container directories left: \(dirs)", sourceLocation: sourceLocation)
    try expectBlobsIntact(daemon, sourceLocation: sourceLocation)
    if !images.isEmpty {
      let out = try TestPipe()
      let exited = try TestEventFD()
      var r = InstantiateRequest(
        imageReference: "busybox:latest",
        entryPoint: EntryPoint(entryPoint: "/bin/echo", entryPointArgs: ["alive"]))
      r.stdout = out.writeRef
      r.mainExitedFd = exited.ref
      _ = try client.call(r)
      #expect(try out.readAll() == "alive\n", sourceLocation: sourceLocation)
      #expect(try exited.exitStatus().exitCode == 0, sourceLocation: sourceLocation)
    }
  }

  @Test func killNineDuringInstantiateThenRestart() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try daemon.start()
    try Fixtures.importImage(try daemon.client())
    // Instantiates in flight on 4 connections; the daemon dies under them.
    let group = DispatchGroup()
    for i in 0..<4 {
      let client = try daemon.client()
      DispatchQueue.global().async(group: group) {
        for j in 0..<50 { _ = try? client.call(sleeper("crash-\(i)-\(j)")) }
      }
    }
    // Wait until some have been made, so the crash lands among live containers and
    // instantiates in progress.
    let deadline = Date().addingTimeInterval(60)
    while daemon.log.components(separatedBy: "instantiated ").count < 4 && Date() < deadline {
      usleep(10_000)  // polling the daemon's log, bounded by the deadline
    }
    try daemon.crash()
    #expect(group.wait(timeout: .now() + 60) == .success, "clients hung after the crash")

    // The crash left containers and mounts behind; a restart reconciles them.
    try daemon.start()
    try expectRecovered(daemon, images: ["busybox:latest"])
    try daemon.stop()
    daemon.expectClean()
  }

  /// What the client was told is in the state when xcd dies right after the reply: a `no_clean`
  /// container started in one `runc run` comes back, after the restart, as ended by it, with
  /// the start time the reply reported (its row was committed before the reply).
  @Test func aStartAcknowledgedIsInTheStateAfterACrash() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try daemon.start()
    let client = try daemon.client()
    try Fixtures.importImage(client)
    var request = sleeper("kept")
    request.noClean = true
    let id = try client.call(request).id
    let started = try #require(try client.call(ShowContainerRequest(id: id)).runningContainer.started)
    try daemon.crash()

    try daemon.start()
    let shown = try daemon.client().call(ShowContainerRequest(id: id))
    #expect(shown.containerDead)
    #expect(shown.runningContainer.started == started)
    #expect(shown.runningContainer.fault == "the engine restarted while the container ran")
    try daemon.stop()
    daemon.expectClean()
  }

  @Test func killNineDuringImportThenRestart() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try daemon.start()
    try Fixtures.importImage(try daemon.client())
    // An import reading from a pipe we feed slowly; the daemon dies mid-archive.
    let pipe = try TestPipe()
    let client = try daemon.client()
    let readEnd = pipe.read
    let done = DispatchSemaphore(value: 0)
    Thread {
      _ = try? client.call(
        FdImportRequest(fd: FDRef(readEnd), config: JailConfig(secureLevel: 0), imageReference: "partial:1"))
      done.signal()
    }.start()
    let archive = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.archive()))
    try archive.prefix(archive.count / 2).withUnsafeBytes { _ = try pipe.write!.writeAll($0) }
    let deadline = Date().addingTimeInterval(30)
    let tmp = daemon.stateDir + "/tmp"
    while ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).isEmpty && Date() < deadline {
      usleep(10_000)  // until the daemon has staged something, bounded
    }
    #expect(!((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).isEmpty)
    try daemon.crash()
    pipe.closeWrite()
    #expect(done.wait(timeout: .now() + 30) == .success)

    try daemon.start()
    try expectRecovered(daemon, images: ["busybox:latest"])
    try daemon.stop()
    daemon.expectClean()
  }

  @Test func killNineDuringCommitThenRestart() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try daemon.start()
    let client = try daemon.client()
    try Fixtures.importImage(client)
    _ = try Storage.sleeper(client, name: "src")
    // 48 MiB of noise: compressing it keeps the commit busy long enough to be interrupted.
    let wrote = try Storage.exec(client, "src", "dd if=/dev/urandom of=/big bs=1M count=48 2>/dev/null; echo ok")
    #expect(wrote.output == "ok\n", "\(wrote)")
    let committer = try daemon.client()
    let done = DispatchSemaphore(value: 0)
    Thread {
      _ = try? committer.call(CommitRequest(containerName: "src", name: "snap", tag: "1"))
      done.signal()
    }.start()
    let tmp = daemon.stateDir + "/tmp"
    let deadline = Date().addingTimeInterval(30)
    while !((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).contains(where: { $0.hasPrefix("commit-") })
      && Date() < deadline
    {
      usleep(5_000)  // until the commit is staging its layer, bounded
    }
    let staged = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
    #expect(staged.contains { $0.hasPrefix("commit-") }, "the commit never started staging: \(staged)")
    try daemon.crash()
    #expect(done.wait(timeout: .now() + 30) == .success)

    // The restart: no half-committed image, the container gone, staging empty, blobs intact.
    try daemon.start()
    try expectRecovered(daemon, images: ["busybox:latest"])
    try daemon.stop()
    daemon.expectClean()
  }

  @Test func aBlobCorruptedAcrossACrashIsQuarantined() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try daemon.start()
    try Fixtures.importImage(try daemon.client())
    try daemon.crash()
    // While xcd is down, one blob loses its tail (a torn write, a disk error).
    let dir = daemon.stateDir + "/blobs/sha256"
    let blobs = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    let victim = try #require(blobs.first)
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir + "/" + victim))
    try handle.truncate(atOffset: 1)
    try handle.close()

    try daemon.start()
    #expect(daemon.log.contains("did not stop cleanly: verifying \(blobs.count) blobs"), "\(daemon.log)")
    #expect(daemon.log.contains("blob sha256:\(victim) does not match its digest"))
    #expect(FileManager.default.fileExists(atPath: daemon.stateDir + "/quarantine/" + victim))
    #expect(!FileManager.default.fileExists(atPath: dir + "/" + victim))
    try expectBlobsIntact(daemon)
    try daemon.stop()

    // A clean stop leaves no mark: the next start (a fresh log) verifies nothing.
    try daemon.start()
    #expect(daemon.log.contains("xcd serving on"))
    #expect(!daemon.log.contains("did not stop cleanly"), "\(daemon.log)")
    try daemon.stop()
    daemon.expectClean()
  }

  @Test func aRuntimeThatFailsToStartLeavesNothing() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    // runc, except that creating a container (`create`, or `run`: create and start) fails, as a
    // broken runtime would.
    let wrapper = daemon.dir + "/failing-runc"
    try """
      #!/bin/sh
      for a in "$@"; do
        case "$a" in create|run) echo "failing-runc: refusing $a" >&2; exit 1 ;; esac
      done
      exec runc "$@"
      """.write(toFile: wrapper, atomically: true, encoding: .utf8)
    chmod(wrapper, 0o755)
    try "runc: \(wrapper)\n".write(toFile: daemon.dir + "/xc.conf", atomically: true, encoding: .utf8)
    try daemon.start(extraArguments: ["--config", daemon.dir + "/xc.conf"])
    let client = try daemon.client()
    try Fixtures.importImage(client)
    for i in 0..<5 {
      let e = try daemonError { try client.call(sleeper("doomed-\(i)")) }
      #expect(e.errno != 0 && e.value.text.contains("runc failed to create container"), "\(e)")
    }
    #expect(try client.call(ListContainersRequest()).isEmpty)
    let dirs = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/containers")) ?? []
    #expect(dirs.isEmpty, "container directories left: \(dirs)")
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    #expect(!mounts.contains(daemon.dir), "mounts left after failed starts")
    try daemon.stop()
    daemon.expectClean()
  }

  @Test func aFullDiskDuringImportFailsCleanly() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try FileManager.default.createDirectory(atPath: daemon.stateDir, withIntermediateDirectories: true)
    guard mount("tmpfs", daemon.stateDir, "tmpfs", 0, "size=64m,mode=0700") == 0 else {
      throw TestFailure("cannot mount a tmpfs: \(String(cString: strerror(errno)))")
    }
    defer { umount2(daemon.stateDir, Int32(MNT_DETACH)) }
    try daemon.start()
    // Regression: xcd's start-up reconcile once unmounted its own state directory when that
    // was a filesystem of its own (it removed every mount "under" the state, itself included).
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    #expect(
      mounts.split(separator: "\n").contains { $0.contains(" \(daemon.stateDir) ") && $0.contains(" - tmpfs ") },
      "the state directory's own filesystem was unmounted")
    // Shrink the disk to what the started daemon uses plus 512 KiB: room for the database to
    // grow a little, not for the image (a 1 MiB archive, staged, then unpacked).
    var fs = statvfs()
    #expect(statvfs(daemon.stateDir, &fs) == 0)
    let used = (UInt(fs.f_blocks) - UInt(fs.f_bfree)) * UInt(fs.f_frsize)
    guard mount("tmpfs", daemon.stateDir, "tmpfs", UInt(MS_REMOUNT), "size=\(used + (512 << 10))") == 0 else {
      throw TestFailure("cannot shrink the tmpfs to \(used) + 512 KiB: \(String(cString: strerror(errno)))")
    }
    let client = try daemon.client()
    for attempt in 0..<3 {
      let e = try daemonError { try Fixtures.importImage(client, reference: "big:\(attempt)") }
      #expect(e.errno != 0, "\(e)")
      #expect(e.value.text.lowercased().contains("no space"), "attempt \(attempt): \(e)")
      #expect(try client.call(ListAllImagesRequest()).manifests.isEmpty)
      let tmp = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/tmp")) ?? []
      #expect(tmp.isEmpty, "staging left after a failed import: \(tmp)")
    }
    // Still serving, and the store holds nothing half-written.
    #expect(try client.call(InfoRequest()).config.socketPath == daemon.socket)
    try expectBlobsIntact(daemon)
    try daemon.stop()
  }
}
