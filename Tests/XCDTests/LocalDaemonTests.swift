import Foundation
import Glibc
import Testing
import XCIPC
import XCObjects
import XCTestSupport

/// The local default: one shared, persistent xcd per user that xcsh starts (or joins) when no
/// daemon answers, `xcsh daemon status|start|stop|logs`, its idle exit and its restart, and
/// `--isolated` beside it. Real xcsh and xcd processes; each test's daemon lives in the test's
/// own directory (`$XCSH_LOCAL_DIR`) and is stopped at the end.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct LocalDaemonTests {
  let modes = DaemonModesTests()

  /// The environment of an xcsh with no daemon at its default socket and its local daemon in
  /// `dir/local`.
  func env(_ dir: String, idle: Int? = nil) -> [String: String] {
    var e = [
      "XCSH_DEFAULT_SOCKET": dir + "/none.sock", "XCSH_LOCAL_DIR": dir + "/local", "XCSH_XCD": DaemonHarness.binary,
    ]
    if let idle { e["XCSH_DAEMON_IDLE"] = String(idle) }
    return e
  }

  /// Runs `body` with a private directory; afterwards the local daemon there is stopped and
  /// nothing (process, mount) is left under it.
  func withLocalDir(_ body: (String) throws -> Void) throws {
    let harness = try DaemonHarness()  // only for its private directory and leak checks
    defer { harness.remove() }
    defer {
      _ = try? modes.xcsh(["daemon", "stop"], dir: harness.dir, env: env(harness.dir))
      #expect(modes.waitGone(harness.dir + "/local"), "the local xcd is still running")
      harness.expectClean()
    }
    try body(harness.dir)
  }

  /// The pid `xcd.pid` names, when that process runs.
  func daemonPID(_ dir: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: dir + "/local/xcd.pid", encoding: .utf8),
      let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
    else { return nil }
    return pid
  }

  static let started = "xcsh: started the local xcd on "

  @Test func twoAtOnceShareOneDaemonAndImagesPersist() throws {
    try withLocalDir { dir in
      let archive = try Fixtures.archive()
      // Both start before either has a daemon: one starts it under the lock, the other waits
      // and joins; both talk to the same one.
      let script = "print (info | get config.socket_path); print (info | get engine.name)"
      let a = try modes.start(["-c", script], dir: dir, env: env(dir))
      let b = try modes.start(["-c", script], dir: dir, env: env(dir))
      #expect(try a.wait() == 0, "\(a.stderr)")
      #expect(try b.wait() == 0, "\(b.stderr)")
      let socket = dir + "/local/xcd.sock"
      #expect(a.stdout == "\(socket)\nxcd\n" && b.stdout == a.stdout, "\(a.stdout) \(b.stdout)")
      let starts = [a.stderr, b.stderr].filter { $0.contains(Self.started) }
      #expect(starts.count == 1, "started lines: \(a.stderr) | \(b.stderr)")
      #expect(modes.processes(mentioning: socket).count == 1, "one xcd serves \(socket)")
      let pid = try #require(daemonPID(dir))

      // The daemon outlives both; an image imported by one run is there for the next.
      var (status, out, err) = try modes.xcsh(
        ["-c", "image import \(archive) persist:1 | ignore; print (images | length)"], dir: dir, env: env(dir))
      #expect(status == 0 && out == "1\n", "\(out) \(err)")
      #expect(!err.contains(Self.started), "a second daemon was started: \(err)")
      (status, out, err) = try modes.xcsh(["-c", "images | get image_reference | to json"], dir: dir, env: env(dir))
      #expect(status == 0 && out == "[\"persist:1\"]\n", "\(out) \(err)")
      #expect(daemonPID(dir) == pid)

      // `daemon status` reports it; `daemon stop` stops it and status then exits 3.
      (status, out, err) = try modes.xcsh(["daemon", "status"], dir: dir, env: env(dir))
      #expect(status == 0, "\(err)")
      #expect(out.contains("local xcd: running (pid \(pid))") && out.contains("contents:  1 image, 0 containers"), "\(out)")
      #expect(out.contains("engine:    xcd "), "\(out)")
      (status, out, _) = try modes.xcsh(["daemon", "stop"], dir: dir, env: env(dir))
      #expect(status == 0 && out == "stopped the local xcd (pid \(pid))\n", "\(out)")
      #expect(modes.waitGone(socket))
      (status, out, _) = try modes.xcsh(["daemon", "status"], dir: dir, env: env(dir))
      #expect(status == 3 && out.hasPrefix("local xcd: not running"), "\(out)")
      (status, out, _) = try modes.xcsh(["daemon", "logs", "-n", "1"], dir: dir, env: env(dir))
      #expect(status == 0 && out.contains("xcd stopped"), "\(out)")

      // Started again, on the same state.
      (status, out, err) = try modes.xcsh(["-c", "images | get image_reference | to json"], dir: dir, env: env(dir))
      #expect(status == 0 && out == "[\"persist:1\"]\n", "\(out) \(err)")
      #expect(err.contains(Self.started), "\(err)")
    }
  }

  @Test func idleExitThenRestartWithStateIntact() throws {
    try withLocalDir { dir in
      let archive = try Fixtures.archive()
      var (status, out, err) = try modes.xcsh(
        ["-c", "image import \(archive) idle:1 | ignore; print (images | length)"], dir: dir, env: env(dir, idle: 2))
      #expect(status == 0 && out == "1\n", "\(out) \(err)")
      #expect(err.contains("it stops after 2 s idle"), "\(err)")
      #expect(daemonPID(dir) != nil)

      // A detached container keeps it busy past the idle time; once it is gone, xcd exits.
      (status, out, err) = try modes.xcsh(
        ["-c", "run idle:1 -d --name idler -- sleep 4 | get name"], dir: dir, env: env(dir, idle: 2))
      #expect(status == 0 && out == "idler\n", "\(out) \(err)")
      let runStarted = Date()
      #expect(modes.waitGone(dir + "/local/xcd.sock", seconds: 60), "xcd did not exit when idle")
      #expect(Date().timeIntervalSince(runStarted) >= 4, "xcd exited while a container ran")
      (status, out, _) = try modes.xcsh(["daemon", "logs", "-n", "3"], dir: dir, env: env(dir))
      #expect(out.contains("idle for 2"), "\(out)")

      // The next xcsh starts it again, with the image still there.
      (status, out, err) = try modes.xcsh(["-c", "images | get image_reference | to json"], dir: dir, env: env(dir, idle: 2))
      #expect(status == 0 && out == "[\"idle:1\"]\n", "\(out) \(err)")
      #expect(err.contains(Self.started), "\(err)")
    }
  }

  @Test func killedDaemonIsRestartedWithNothingLost() throws {
    try withLocalDir { dir in
      let archive = try Fixtures.archive()
      var (status, out, err) = try modes.xcsh(
        ["-c", "image import \(archive) kept:1 | ignore; network create keptnet 10.251.7.0/24 | ignore; volume create keptvol | ignore"],
        dir: dir, env: env(dir))
      #expect(status == 0, "\(out) \(err)")
      let pid = try #require(daemonPID(dir))
      kill(pid, SIGKILL)
      #expect(modes.waitGone(dir + "/local/xcd.sock"))

      // The stale socket is there, nothing answers: the next xcsh starts a new xcd.
      (status, out, err) = try modes.xcsh(
        ["-c", "print (images | get image_reference | to json); print (networks | get name | where $it == keptnet | length); print (volumes | get name | to json)"],
        dir: dir, env: env(dir))
      #expect(status == 0 && out == "[\"kept:1\"]\n1\n[\"keptvol\"]\n", "\(out) \(err)")
      #expect(err.contains(Self.started), "\(err)")
      #expect(daemonPID(dir) != pid && daemonPID(dir) != nil)
      (status, _, err) = try modes.xcsh(["-c", "network rm keptnet; volume rm keptvol"], dir: dir, env: env(dir))
      #expect(status == 0, "\(err)")
    }
  }

  @Test func replSessionsShareTheLocalDaemon() throws {
    try withLocalDir { dir in
      let archive = try Fixtures.archive()
      var e = env(dir)
      e["XC_SOCKET"] = ""
      // The prompt shows the local xcd: down until the first daemon call starts it.
      let first = try TmuxSession(xcsh: XCShellObjectTests.xcsh, defaultSocket: true, environment: e)
      defer { first.close() }
      try first.waitForEditor("[xcd.sock down] >")
      try first.type("image import \(archive) repl:1 | get image_reference")
      try first.press("Enter")
      try first.waitFor("the import's result") { $0.contains("repl:1") }
      try first.waitForEditor("[xcd.sock up] >")
      // A second session, while the first is open, finds the image there.
      let second = try TmuxSession(xcsh: XCShellObjectTests.xcsh, defaultSocket: true, environment: e)
      defer { second.close() }
      try second.waitForEditor("[xcd.sock up] >")
      try second.type("images | get image_reference | to json")
      try second.press("Enter")
      try second.waitFor("the image listed") { $0.contains(#"["repl:1"]"#) }
      #expect(modes.processes(mentioning: dir + "/local/xcd.sock").count == 1)
    }
  }

  @Test func isolatedLeavesNothingBehind() throws {
    try withLocalDir { dir in
      let isolated = dir + "/isolated"
      var e = env(dir)
      e["XCSH_EMBEDDED_DIR"] = isolated
      let (status, out, err) = try modes.xcsh(
        ["--isolated", "-c", "print (info | get config.socket_path); print (images | length)"], dir: dir, env: e)
      #expect(status == 0 && out == "\(isolated)/xcd.sock\n0\n", "\(out) \(err)")
      #expect(err == "xcsh: started a private xcd on \(isolated)/xcd.sock (state \(isolated)/state)\n")
      #expect(modes.waitGone(isolated), "the private xcd outlived xcsh")
      #expect(!FileManager.default.fileExists(atPath: isolated), "the private directory was left")
      #expect(!FileManager.default.fileExists(atPath: dir + "/local"), "--isolated touched the local daemon")
    }
  }

  @Test func badSettingsAndNonRootAreClearErrors() throws {
    try withLocalDir { dir in
      var e = env(dir)
      e["XCSH_DAEMON_IDLE"] = "soon"
      let (status, out, err) = try modes.xcsh(["-c", "print (1 + 1); ps"], dir: dir, env: e)
      #expect(status == 1 && out == "2\n", "\(out)")
      #expect(err.contains("$XCSH_DAEMON_IDLE must be a whole number of seconds (0: never), found `soon`"), "\(err)")
      #expect(err.contains("--> <command>:1:16"), "\(err)")

      // Not root: the engine cannot work, and the error says so and what to do instead.
      chmod(dir, 0o755)
      let asNobody = try runAsNobody(["-c", "ps"], env: env(dir))
      #expect(asNobody.status == 1, "\(asNobody.err)")
      #expect(asNobody.err.contains("the local xcd needs root"), "\(asNobody.err)")
      #expect(asNobody.err.contains("systemctl enable --now xcd"), "\(asNobody.err)")
      #expect(!FileManager.default.fileExists(atPath: dir + "/local"), "a non-root xcsh made the local directory")
    }
  }

  /// xcsh as user nobody (setpriv), with `env`.
  func runAsNobody(_ arguments: [String], env: [String: String]) throws -> (status: Int32, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", XCShellObjectTests.xcsh] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["XC_SOCKET"] = nil
    environment["HOME"] = "/nonexistent"
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}

/// Where the local daemon lives, for root and for others (no daemon started).
struct LocalDaemonPlaceTests {
  @Test func directoryPerUser() {
    #expect(LocalDaemon.directory(environment: [:], uid: 0) == "/var/lib/xcsh/xcd")
    #expect(LocalDaemon.directory(environment: ["XDG_DATA_HOME": "/d", "HOME": "/h"], uid: 1000) == "/d/xcsh/xcd")
    #expect(LocalDaemon.directory(environment: ["XDG_DATA_HOME": "relative", "HOME": "/h"], uid: 1000) == "/h/.local/share/xcsh/xcd")
    #expect(LocalDaemon.directory(environment: ["XCSH_LOCAL_DIR": "/x", "HOME": "/h"], uid: 0) == "/x")
  }
}
