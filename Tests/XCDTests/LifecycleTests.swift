import Foundation
import Testing
import XCIPC

/// Restart policies, `restart`/`start` and health checks against the real xcd, runc and
/// xc-init: main is started again in the same container (same id, rootfs, address), as many
/// times as the policy says; a stop ends it for good; a health check run by the daemon flips
/// `health` and `wait --healthy` follows it.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct LifecycleTests {
  let e2e = ObjectCommandsE2ETests()

  /// Polls `condition` every 50 ms for up to `seconds`; true once it held.
  func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return true }
      usleep(50_000)
    }
    return try condition()
  }

  func expectNothingLeft(_ daemon: DaemonHarness, _ client: XCClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try e2e.expectNoContainersNow(client, sourceLocation: sourceLocation)
    let left = try LeakCount.of(daemon)
    #expect(
      left.mounts == 0 && left.containerDirs == 0 && left.runcState == 0 && left.leases == 0, "\(left)",
      sourceLocation: sourceLocation)
  }

  @Test func onFailureRestartsExactlyTwiceInTheSameRootfsThenStaysEnded() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // Each run appends to a file of the container's rootfs: the count shows it is kept.
      let ended = try e2e.ok(
        """
        run busybox:latest -d --name flaky --restart on-failure:2 -- sh -c 'echo x >> /runs; echo run-$(wc -l < /runs); exit 3' | ignore
        let ended = (wait flaky --exit --timeout 60s)
        print $ended.exit_code $ended.restarts
        """, daemon)
      #expect(ended == "3\n2\n", "\(ended)")
      // wait --exit sees the final end; the release (which moves the log to where ended
      // containers' logs are kept) follows: a bounded poll.
      try e2e.expectNoContainers(client)
      let out = try e2e.ok(
        """
        print (logs flaky | get line | str join ',')
        let kept = (ps --all | where name == flaky)
        print ($kept | length) $kept.0.restarts $kept.0.xcsh_restart.mode $kept.0.xcsh_restart.max_retries $kept.0.xcsh_last_exit
        """, daemon)
      #expect(out == "run-1,run-2,run-3\n1\n2\non-failure\n2\n768\n", "\(out)")
      try expectNothingLeft(daemon, client)
    }
  }

  @Test func alwaysRestartsKeepingItsAddressUntilStop() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let ip = try e2e.ok(
        "run busybox:latest -d --name loop --vnet --restart always -- sh -c 'echo up; exit 0' | get ip", daemon)
      #expect(ip.hasPrefix("10."), "\(ip)")
      // A main that exits 0 is started again, over and over (backoff 100 ms, 200 ms, 400 ms…).
      #expect(try eventually(30) { try e2e.ok("show loop | get restarts", daemon) >= "3\n" })
      #expect(try e2e.ok("show loop | get ip", daemon) == ip)
      _ = try e2e.ok("stop loop --time 2s", daemon)
      let out = try e2e.ok(
        """
        print (ps | where name == loop | length)
        let kept = (ps --all | where name == loop)
        print ($kept | length) ($kept.0.restarts >= 3) $kept.0.status
        """, daemon)
      #expect(out == "0\n1\ntrue\nexited\n", "\(out)")
      try expectNothingLeft(daemon, client)
    }
  }

  @Test func aDaemonRestartEndsPoliciesAndKeepsTheRecords() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try e2e.ok("run busybox:latest -d --name svc --restart always -- sh -c 'exit 0' | ignore", daemon)
      #expect(try eventually(30) { try e2e.ok("show svc | get restarts", daemon) >= "1\n" })
      // The daemon's shutdown is a stop of every container: final, and not undone at the start.
      try daemon.stop()
      try daemon.start()
      let out = try e2e.ok(
        """
        print (ps | length)
        let kept = (ps --all | where name == svc)
        print ($kept | length) ($kept.0.restarts >= 1) $kept.0.xcsh_restart.mode
        """, daemon)
      #expect(out == "0\n1\ntrue\nalways\n", "\(out)")
      try expectNothingLeft(daemon, try daemon.client())
    }
  }

  @Test func stopEndsAContainerForGoodWhatItsPolicySays() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // SIGTERM makes main fail (exit 1), which on-failure would restart: a stop does not.
      let out = try e2e.ok(
        """
        run busybox:latest -d --name term --restart on-failure -- sh -c 'trap "exit 1" TERM; echo ready; while true; do sleep 0.1; done' | ignore
        wait term --log ready --timeout 30s | ignore
        stop term --time 20s
        print (ps | where name == term | length)
        let kept = (ps --all | where name == term)
        print $kept.0.exit_code $kept.0.restarts
        """, daemon)
      #expect(out == "0\n1\n0\n", "\(out)")
      try expectNothingLeft(daemon, client)
    }
  }

  @Test func restartStartsMainAgainInTheSameContainerAndStartSaysWhatItCan() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let out = try e2e.ok(
        """
        run busybox:latest -d --name web --vnet -- sh -c 'echo start >> /runs; exec sleep 1000' | ignore
        wait web --exec 'test -e /runs' --timeout 30s | ignore
        let before = (show web)
        let after = (restart web --time 5s)
        wait web --exec 'test $(wc -l < /runs) -eq 2' --timeout 30s | ignore
        print ($before.id == $after.id) ($before.ip == $after.ip) $after.status $after.restarts
        print (start web | get status)
        create busybox:latest --name later -- sleep 1000 | ignore
        print (start later | get status)
        """, daemon)
      #expect(out == "true\ntrue\nrunning\n\nrunning\nrunning\n", "\(out)")  // restarts: null (no policy)

      // An ended container cannot be started: its resources are gone.
      let (s1, _, e1) = try e2e.xcsh("run busybox:latest -d --name once -- true | ignore; wait once --exit | ignore; start once", daemon)
      #expect(s1 != 0 && e1.contains("has ended and cannot be started again"), "\(e1)")
      // Main on a terminal: the daemon does not hold its output, so it cannot be run again.
      let (s2, _, e2) = try e2e.xcsh("run busybox:latest -d -t --name tty1 -- sleep 1000 | ignore; restart tty1", daemon)
      #expect(s2 != 0 && e2.contains("cannot be restarted"), "\(e2)")
      _ = try e2e.ok("kill web later tty1", daemon)
      try expectNothingLeft(daemon, client)
    }
  }

  @Test func healthTurnsHealthyThenUnhealthyAndWaitHealthyFollowsIt() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // The check reads a file the test creates and removes in the container. A long start
      // period: until the first pass, failures do not count, so the status stays `starting`.
      _ = try e2e.ok(
        """
        run busybox:latest -d --name hc --health-cmd 'cat /tmp/ok' --health-interval 200ms --health-retries 2 --health-start-period 1h -- sh -c 'exec sleep 1000' | ignore
        """, daemon)
      let (s0, _, e0) = try e2e.xcsh("wait hc --healthy --timeout 1s", daemon)
      #expect(s0 != 0 && e0.contains("timed out") && e0.contains("to be healthy"), "\(e0)")
      #expect(try e2e.ok("show hc | get health", daemon) == "starting\n")

      let healthy = try e2e.ok(
        "exec hc -- sh -c 'echo fine > /tmp/ok' | ignore; wait hc --healthy --timeout 30s | get health", daemon)
      #expect(healthy == "healthy\n", "\(healthy)")
      #expect(try e2e.ok("show hc | get xcsh_health.last_output", daemon) == "fine\n")

      _ = try e2e.ok("exec hc -- rm /tmp/ok | ignore", daemon)
      #expect(try eventually(30) { try e2e.ok("show hc | get health", daemon) == "unhealthy\n" })
      let (s1, _, e1) = try e2e.xcsh("wait hc --healthy --timeout 30s", daemon)
      #expect(s1 != 0 && e1.contains("is unhealthy") && e1.contains("times in a row") && e1.contains("can't open"), "\(e1)")

      // A pass makes it healthy again; the checks are not listed among its processes.
      let again = try e2e.ok(
        """
        exec hc -- touch /tmp/ok | ignore
        print (wait hc --healthy --timeout 30s | get health)
        print (show hc | get processes | columns | length)
        """, daemon)
      #expect(again == "healthy\n4\n", "\(again)")
      // A container without a check has nothing to wait for.
      let (s2, _, e2) = try e2e.xcsh("run busybox:latest -d --name plain -- sleep 1000 | ignore; wait plain --healthy", daemon)
      #expect(s2 != 0 && e2.contains("has no health check"), "\(e2)")
      _ = try e2e.ok("kill hc plain", daemon)
      try expectNothingLeft(daemon, client)
    }
  }
}
