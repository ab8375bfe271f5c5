import Foundation
import Glibc
import Testing
import XCIPC
import XCSystem

/// Main's log (`xcsh.logs`, xcsh's `logs` and `wait --log`) against the real xcd: a detached
/// main's output lands in `<state>/containers/<id>/main.log`, bounded, kept with the ended
/// container's record (`<state>/ended/<id>/`) until `rm`.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct MainLogTests {
  /// A detached busybox container (no stdio descriptors) running `sh -c script`.
  func detached(_ script: String, name: String? = nil) -> InstantiateRequest {
    InstantiateRequest(
      imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "/bin/sh", entryPointArgs: ["-c", script]),
      name: name)
  }

  func xcsh(_ code: String, _ daemon: DaemonHarness) throws -> (Int32, String, String) {
    try XCShellObjectTests().xcsh(code, socket: daemon.socket)
  }

  /// The output a record log holds: its records' lines, each with its newline.
  static func output(_ path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { return "" }
    return LogRecordFile.records([UInt8](data)).records.map { String(decoding: $0.line, as: UTF8.self) + "\n" }.joined()
  }

  /// The log file's output (`output`) once it satisfies `done`, polling until the deadline.
  func logText(_ path: String, seconds: Double = 20, until done: (String) -> Bool) throws -> String {
    let deadline = Date().addingTimeInterval(seconds)
    var text = ""
    while Date() < deadline {
      text = Self.output(path)
      if done(text) { return text }
      usleep(50_000)  // polling a file another process writes, bounded by the deadline
    }
    throw TestFailure("\(path) never matched within \(Int(seconds)) s; it holds: \(text.suffix(300))")
  }

  /// Waits until the daemon has released container `id` (main's exit is notified before
  /// that): `xcsh.logs` then answers with the log it keeps for ended containers
  /// (`<state>/ended/<id>/main.log`).
  func waitRemoved(_ client: XCClient, _ id: String, daemon: DaemonHarness) throws -> LogsResponse {
    let kept = daemon.stateDir + "/ended/\(id)/main.log"
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
      let files = try client.call(LogsRequest(name: id))
      if files.stdoutLogFile == kept || files.stderrLogFile == kept { return files }
      usleep(50_000)  // polling the daemon's state, bounded by the deadline
    }
    throw TestFailure("container \(id) was not released within 30 s")
  }

  @Test func detachedOutputIsLoggedAndRemovedWithTheContainer() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      var r = detached("echo hello; echo oops >&2; exec sleep 1000", name: "logged")
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id

      let files = try client.call(LogsRequest(name: "logged"))
      let path = try #require(files.stdoutLogFile)
      #expect(path == daemon.stateDir + "/containers/\(id)/main.log")
      #expect(files.stderrLogFile == path)
      let text = try logText(path) { $0.contains("oops\n") }
      #expect(text == "hello\noops\n")
      // Each line a record of its stream, the file starting with the format's header.
      let raw = [UInt8](try #require(FileManager.default.contents(atPath: path)))
      #expect(LogRecordFile.isRecordLog(raw))
      #expect(LogRecordFile.records(raw).records.map(\.stream) == [.stdout, .stderr])
      // The same paths in main's spawn_info, as xc reports its tty logs.
      let shown = try client.call(ShowContainerRequest(id: id)).runningContainer
      #expect(shown.processes["main"]?.spawnInfo?.stdoutLogFile == path)

      // xcsh's `logs` on a terminal: stdout lines to stdout, stderr lines to stderr (as
      // `docker logs`); in a pipe, records.
      var (status, out, err) = try xcsh("logs logged", daemon)
      #expect(status == 0 && out == "hello\n" && err == "oops\n", "\(err)")
      (status, out, err) = try xcsh("logs logged --tail 1 | get 0.line", daemon)
      #expect(status == 0 && out == "oops\n", "\(err)")
      (status, out, err) = try xcsh("logs logged --process nosuch", daemon)
      #expect(status == 1 && err.contains("has no process nosuch"), "\(err)")

      // An unknown container: a clear error.
      let none = try daemonError { try client.call(LogsRequest(name: "ghost")) }
      #expect(none.errno == 2 && none.value.text.contains("ghost"), "\(none)")

      _ = try client.call(KillContainerRequest(name: "logged"))
      #expect(try exited.exitStatus().terminationSignal == SIGTERM)
      // The container's directory goes with it; its log is kept with its record, by id and
      // by name, until `rm` (xcsh.remove_container) forgets it.
      let kept = try waitRemoved(client, id, daemon: daemon)
      #expect(kept.stdoutLogFile == daemon.stateDir + "/ended/\(id)/main.log" && kept.stderrLogFile == kept.stdoutLogFile)
      #expect(try client.call(LogsRequest(name: "logged")).stdoutLogFile == kept.stdoutLogFile)
      (status, out, err) = try xcsh("logs \(id) | get line | str join ','", daemon)
      #expect(status == 0 && out == "hello,oops\n", "\(err)")
      #expect(!FileManager.default.fileExists(atPath: path))
      #expect(!FileManager.default.fileExists(atPath: daemon.stateDir + "/containers/\(id)"))
      _ = try client.call(RemoveContainerRequest(name: "logged"))
      let gone = try daemonError { try client.call(LogsRequest(name: id)) }
      #expect(gone.errno == 2 && gone.value.text.contains("no such container"), "\(gone)")
      #expect(!FileManager.default.fileExists(atPath: daemon.stateDir + "/ended/\(id)"))
    }
  }

  @Test func clientDescriptorsAreNotLoggedAndNoCleanKeepsTheLog() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // stdout to the client, stderr logged.
      let out = try TestPipe()
      let exited = try TestEventFD()
      var r = detached("echo to-client; echo to-log >&2")
      r.stdout = out.writeRef
      r.mainExitedFd = exited.ref
      r.noClean = true
      let id = try client.call(r).id
      out.closeWrite()
      #expect(try out.readAll() == "to-client\n")
      #expect(try exited.exitStatus().exitCode == 0)

      // Ended but kept (no_clean): its log stays readable by id.
      let files = try client.call(LogsRequest(name: id))
      #expect(files.stdoutLogFile == nil)
      let path = try #require(files.stderrLogFile)
      #expect(try logText(path) { $0.contains("\n") } == "to-log\n")
      let (status, text, err) = try xcsh("logs \(id)", daemon)
      #expect(status == 0 && text.isEmpty && err == "to-log\n", "\(text) \(err)")
    }
  }

  @Test func ttyOutputIsLogged() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      var r = detached("echo on-tty; exec sleep 1000", name: "tty-logged")
      r.useTty = true
      r.mainExitedFd = exited.ref
      _ = try client.call(r)
      let path = try #require(try client.call(LogsRequest(name: "tty-logged")).stdoutLogFile)
      _ = try logText(path) { $0.contains("on-tty") }
      let id = try client.call(ShowContainerRequest(id: "tty-logged")).runningContainer.id
      _ = try client.call(KillContainerRequest(name: "tty-logged"))
      _ = try exited.exitStatus()
      let kept = try waitRemoved(client, id, daemon: daemon)
      #expect(!FileManager.default.fileExists(atPath: path))
      #expect(try logText(try #require(kept.stdoutLogFile)) { $0.contains("on-tty") }.contains("on-tty"))
    }
  }

  /// More output than the cap: the file stays within 1 MiB, keeps the newest whole lines.
  @Test func theLogIsBounded() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      // 3 MB of numbered lines, then a marker.
      var r = detached("i=0; while [ $i -lt 60000 ]; do echo \"line $i ................................................\"; i=$((i+1)); done; echo END; exec sleep 1000")
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id
      let path = try #require(try client.call(LogsRequest(name: id)).stdoutLogFile)
      let text = try logText(path, seconds: 120) { $0.hasSuffix("END\n") }
      let raw = [UInt8](try #require(FileManager.default.contents(atPath: path)))
      let size = raw.count
      #expect(size <= 1 << 20 && size >= 1 << 18, "\(size) bytes")
      #expect(LogRecordFile.isRecordLog(raw), "the trim kept the header")
      #expect(text.hasPrefix("line "), "\(text.prefix(80))")
      #expect(text.contains("line 59999 ") && !text.contains("line 0 "))
      let dir = daemon.stateDir + "/containers/\(id)"
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("main.log.") }.isEmpty)
      _ = try client.call(KillContainerRequest(name: id))
      _ = try exited.exitStatus()
      _ = try waitRemoved(client, id, daemon: daemon)
      #expect(!FileManager.default.fileExists(atPath: dir))
    }
  }

  /// `wait --log` through xcsh: met once main prints the text, a clear timeout otherwise.
  @Test func waitForLogThroughXcsh() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      var r = detached("sleep 1; echo ready; exec sleep 1000", name: "slow-start")
      r.mainExitedFd = exited.ref
      _ = try client.call(r)
      let silent = try TestEventFD()
      var q = detached("exec sleep 1000", name: "silent")
      q.mainExitedFd = silent.ref
      _ = try client.call(q)

      let started = Date()
      var (status, out, err) = try xcsh("wait slow-start --log ready --timeout 10s | get name", daemon)
      #expect(status == 0 && out == "slow-start\n", "\(err)")
      #expect(Date().timeIntervalSince(started) < 10)
      let log = try #require(try client.call(LogsRequest(name: "slow-start")).stdoutLogFile)
      #expect(Self.output(log) == "ready\n")

      (status, out, err) = try xcsh("wait silent --log ready --timeout 1s --every 100ms", daemon)
      #expect(status == 1, "\(out)")
      #expect(err.contains("timed out after 1s waiting for `silent` to log \"ready\""), "\(err)")

      _ = try client.call(KillContainerRequest(name: "slow-start"))
      _ = try client.call(KillContainerRequest(name: "silent"))
      _ = try exited.exitStatus()
      _ = try silent.exitStatus()
    }
  }
}
