import Foundation
import Testing
import XCIPC

/// `logs --follow` against the real xcd: it prints lines the container writes after it started
/// (the container writes them only once the follower's `xcsh.logs` call is in the daemon's log)
/// and returns when the container ends.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct LogFollowTests {
  let e2e = ObjectCommandsE2ETests()

  @Test func followSeesLaterLinesAndEndsWithTheContainer() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try e2e.ok(
        """
        run busybox:latest -d --name chatty -- sh -c 'echo before; while [ ! -e /go ]; do sleep 0.1; done; echo after-1; echo after-2 >&2; exit 0' | ignore
        wait chatty --log before --timeout 30s | ignore
        """, daemon)
      // The follower has asked for the log: its later output can only come from following.
      let follower = FollowerRun.start(daemon, ["-c", "logs chatty --follow"], timeout: .seconds(60))
      _ = try e2e.ok("exec chatty -- touch /go", daemon)
      let r = try follower.finished(within: 60)
      #expect(r.status == 0, "\(r.stderr)")
      // As `docker logs`: the container's stderr lines on xcsh's stderr.
      #expect(r.stdout == "before\nafter-1\n" && r.stderr == "after-2\n", "\(r.stdout) \(r.stderr)")
      try e2e.expectNoContainers(client)
    }
  }
}
