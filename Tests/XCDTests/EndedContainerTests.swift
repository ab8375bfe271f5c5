import Foundation
import Testing
import XCIPC

/// Exited containers stay inspectable: the daemon keeps an ended container's record and main
/// log (bounded by xc.conf's keep_ended / keep_ended_seconds) after releasing its resources;
/// `ps --all`, `logs`, `show`, `wait --exit` read them, `rm` forgets them; `--persist` keeps a
/// container after main exits until it is killed. Real xcd, runc, xc-init.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct EndedContainerTests {
  let e2e = ObjectCommandsE2ETests()

  @Test func aCrashedContainersExitCodeAndLastLogLinesAreReadAfterItEnded() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exit = try e2e.ok(
        """
        run busybox:latest -d --name crash1 -- sh -c 'echo starting; echo oops >&2; echo last-line; exit 3' | ignore
        wait crash1 --exit --timeout 30s | get exit_code
        """, daemon)
      #expect(exit == "3\n", "\(exit)")
      // wait --exit sees main's exit; the release follows (bounded poll).
      try e2e.expectNoContainers(client)
      let out = try e2e.ok(
        """
        print (wait crash1 --exit --timeout 30s | get exit_code)
        print '--- ps'
        print (ps | where name == crash1 | length)
        print '--- all'
        let gone = (ps --all | where name == crash1)
        print ([($gone | length) $gone.0.exit_code $gone.0.status ($gone.0.finished_at > ((date now) - 1h))] | str join ' ')
        print '--- logs'
        print (logs crash1 --stdout | get line | last 2 | str join ',') (logs crash1 --stderr | get line | str join ',')
        print '--- show'
        print (show crash1 | get exit_code)
        """, daemon)
      let parts = out.components(separatedBy: "--- ")
      #expect(parts.count == 5, "\(out)")
      guard parts.count == 5 else { return }
      #expect(parts[0] == "3\n", "\(out)")
      #expect(parts[1] == "ps\n0\n", "ps without --all lists live containers only: \(out)")
      #expect(parts[2] == "all\n1 3 exited true\n", "\(out)")
      #expect(parts[3] == "logs\nstarting,last-line\noops\n", "\(out)")
      #expect(parts[4] == "show\n3\n", "\(out)")
      // The resources went at the end; only the record and the log are kept.
      try e2e.expectNoContainersNow(client)
      let left = try LeakCount.of(daemon)
      #expect(left.mounts == 0 && left.containerDirs == 0 && left.runcState == 0 && left.leases == 0, "\(left)")
      let kept = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/ended")
      #expect(kept.count == 1, "\(kept)")

      // Kept across a restart of the daemon.
      try daemon.stop()
      try daemon.start()
      #expect(try e2e.ok("ps --all | where name == crash1 | get 0.exit_code", daemon) == "3\n")

      // rm forgets the record and its log; a running container is refused.
      let (busy, _, busyErr) = try e2e.xcsh("run busybox:latest -d --name live1 -- sleep 1000 | ignore; rm live1", daemon)
      #expect(busy != 0 && busyErr.contains("still running"), "\(busyErr)")
      _ = try e2e.ok("kill live1; rm crash1 live1", daemon)
      #expect(try e2e.ok("ps --all | length", daemon) == "0\n")
      let (status, _, err) = try e2e.xcsh("logs crash1", daemon)
      #expect(status != 0 && err.contains("crash1"), "\(err)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/ended").isEmpty)
    }
  }

  @Test func retentionKeepsTheNewestOnly() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    let config = daemon.dir + "/xc.conf"
    try "keep_ended: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
    try daemon.start(extraArguments: ["--config", config])
    do {
      try Fixtures.importImage(try daemon.client())
      let client = try daemon.client()
      _ = try e2e.ok("run busybox:latest --name one -- true", daemon)
      try e2e.expectNoContainers(client)
      _ = try e2e.ok("run busybox:latest -d --name two -- sh -c 'exit 4' | ignore; wait two --exit | ignore", daemon)
      try e2e.expectNoContainers(client)
      let out = try e2e.ok("ps --all | get name | str join ','", daemon)
      #expect(out == "two\n", "\(out)")
    } catch {
      try? daemon.stop()
      throw error
    }
    try daemon.stop()
    daemon.expectClean()
  }

  /// Bad values of the new xc.conf keys stop xcd at start, naming the key.
  @Test func badRetentionAndDefaultNetworkKeysAreRefused() throws {
    for (text, expected) in [
      ("keep_ended: -1\n", "`keep_ended` must be >= 0"),
      ("keep_ended_seconds: soon\n", "`keep_ended_seconds` must be an integer"),
      ("default_network_subnet: 10.1.2.300/24\n", "default_network_subnet"),
      ("default_network: a.b\n", "default_network"),
    ] {
      let daemon = try DaemonHarness()
      defer { daemon.remove() }
      let config = daemon.dir + "/xc.conf"
      try text.write(toFile: config, atomically: true, encoding: .utf8)
      let (status, stderr) = try daemon.runExpectingFailure(extraArguments: ["--config", config])
      #expect(status != 0 && stderr.contains(expected), "\(text): \(stderr)")
    }
  }

  @Test func persistKeepsTheContainerAfterMainExitsUntilKilled() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let out = try e2e.ok(
        """
        let c = (run busybox:latest -d --persist --name p1 -- sh -c 'echo done; exit 5')
        print (wait $c --exit --timeout 30s | get exit_code)
        print (ps | where name == p1 | length)
        print (exec p1 -- echo still-here)
        kill p1
        print (ps | where name == p1 | length)
        print (ps --all | where name == p1 | get 0.exit_code)
        """, daemon)
      #expect(out == "5\n1\nstill-here\n0\n5\n", "\(out)")
      try e2e.expectNoContainersNow(client)
      _ = try e2e.ok("rm p1", daemon)
    }
  }
}
