import Foundation
import Glibc
import Testing
import XCIPC

/// `--env-file` on run (Docker's format, bad lines named by file:line) and `cp` to a new name
/// in both directions, through the built xcsh against the real xcd.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct EnvFileAndCopyTests {
  func xcsh(_ code: String, _ daemon: DaemonHarness) throws -> XcshResult {
    try Xcsh.run(["--socket", daemon.socket, "-c", code])
  }

  @Test func envFileVariablesReachMainAndBadLinesAreNamed() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let file = daemon.dir + "/app.env"
      try "# settings\n\nA=from-file\nB=overridden\nC=with = signs \n".write(toFile: file, atomically: true, encoding: .utf8)
      let r = try xcsh("print (run busybox:latest --env-file \(file) -e B=from-flag -- sh -c 'echo \"$A|$B|$C|\"')", daemon)
      #expect(r.stdout == "from-file|from-flag|with = signs |\n", "\(r.stderr)")
      let bad = daemon.dir + "/bad.env"
      try "A=1\n# fine\nNOT VALID=2\n".write(toFile: bad, atomically: true, encoding: .utf8)
      let failed = try xcsh("run busybox:latest --env-file \(bad) -- true", daemon)
      #expect(failed.status != 0)
      #expect(failed.stderr.contains("\(bad):3: variable name `NOT VALID` contains white space"), "\(failed.stderr)")
      let missing = try xcsh("run busybox:latest --env-file \(daemon.dir)/nope.env -- true", daemon)
      #expect(missing.status != 0 && missing.stderr.contains("nope.env"), "\(missing.stderr)")
      #expect(try daemon.client().call(ListContainersRequest()).isEmpty)
    }
  }
}
