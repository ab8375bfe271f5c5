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

  @Test func copyToANewNameBothWays() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let host = daemon.dir + "/host"
      try FileManager.default.createDirectory(atPath: host + "/tree/sub", withIntermediateDirectories: true)
      try "tree-file\n".write(toFile: host + "/tree/sub/f", atomically: true, encoding: .utf8)
      try "host-version\n".write(toFile: host + "/app.conf", atomically: true, encoding: .utf8)
      let r = try xcsh("""
        let c = (run busybox:latest -d --name cp1 -- sleep 1000)
        exec $c -- sh -c 'echo 127.0.0.1 inside > /etc/hosts'
        cp cp1:/etc/hosts \(host)/hosts.copy
        cp cp1:/etc \(host)/etc.copy
        cp \(host)/app.conf cp1:/etc/renamed.conf
        cp \(host)/tree cp1:/opt/
        cp \(host)/tree cp1:/opt/tree2
        print (exec cp1 -- cat /etc/renamed.conf /opt/tree/sub/f /opt/tree2/sub/f)
        """, daemon)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.stdout == "host-version\ntree-file\ntree-file\n", "\(r.stderr)")
      #expect(try String(contentsOfFile: host + "/hosts.copy", encoding: .utf8) == "127.0.0.1 inside\n")
      #expect(try String(contentsOfFile: host + "/etc.copy/hosts", encoding: .utf8) == "127.0.0.1 inside\n")
      // No staging directory left beside the destination.
      #expect(try FileManager.default.contentsOfDirectory(atPath: host).sorted() == ["app.conf", "etc.copy", "hosts.copy", "tree"])
      // A new name whose parent does not exist: an error on either side.
      let noParent = try xcsh("cp cp1:/etc/hosts \(host)/no/such/file", daemon)
      #expect(noParent.status != 0 && noParent.stderr.contains("is not a directory on this host"), "\(noParent.stderr)")
      let noParentIn = try xcsh("cp \(host)/app.conf cp1:/no/such/file", daemon)
      #expect(noParentIn.status != 0 && noParentIn.stderr.contains("its parent"), "\(noParentIn.stderr)")
      _ = try xcsh("kill cp1", daemon)
      #expect(try client.call(ListContainersRequest()).isEmpty)
    }
  }
}
