import Foundation
import Testing
import XCIPC

/// `stop C --time D` against the real xcd: main gets SIGTERM first (a trap records it in the
/// log, which the daemon keeps after the end), and a main that ignores SIGTERM is SIGKILLed
/// once the grace period is over, not before.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct StopTests {
  let e2e = ObjectCommandsE2ETests()

  func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = Date()
    try body()
    return Date().timeIntervalSince(start)
  }

  @Test func stopSendsTermFirstThenKillsAfterTheGracePeriod() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try e2e.ok(
        """
        run busybox:latest -d --name polite -- sh -c 'trap "echo got-TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done' | ignore
        run busybox:latest -d --name stubborn -- sh -c 'trap "echo ignored-TERM" TERM; echo ready; while true; do sleep 0.1; done' | ignore
        wait polite --log ready --timeout 30s | ignore
        wait stubborn --log ready --timeout 30s | ignore
        """, daemon)

      // The trap runs: the container ends by itself well within the grace period.
      let politeTime = try timed { _ = try e2e.ok("stop polite --time 20s", daemon) }
      #expect(politeTime < 10, "polite took \(politeTime) s: it was not given SIGTERM first")
      let polite = try e2e.ok(
        "print (logs polite | get line | str join ' ' | str contains got-TERM) (ps --all | where name == polite | get 0.exit_code)", daemon)
      #expect(polite == "true\n0\n", "\(polite)")

      // TERM is trapped and ignored: SIGKILL after the 2 s grace period, and not before.
      let stubbornTime = try timed { _ = try e2e.ok("stop stubborn --time 2s", daemon) }
      #expect(stubbornTime >= 2 && stubbornTime < 15, "stubborn took \(stubbornTime) s")
      // Main's raw wait status: killed by signal 9 (xcsh's exit_code is 1 for any signal).
      let stubborn = try e2e.ok(
        "print (logs stubborn | get line | str join ' ' | str contains ignored-TERM) (ps --all | where name == stubborn | get 0.processes.main.exit_code)", daemon)
      #expect(stubborn == "true\n9\n", "\(stubborn)")
      try e2e.expectNoContainersNow(client)

      let (status, _, err) = try e2e.xcsh("stop ghost", daemon)
      #expect(status != 0 && err.contains("ghost"), "\(err)")
    }
  }
}
