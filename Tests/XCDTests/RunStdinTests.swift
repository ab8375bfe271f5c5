import Foundation
import Testing
import XCIPC

/// `run -i` against the real xcd: the container's main reads xcsh's standard input (an
/// external pipe into xcsh), or what the pipeline pipes into `run`.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct RunStdinTests {
  /// `xcsh --socket SOCKET -c CODE` with `stdin` written to its standard input.
  func xcsh(_ code: String, stdin: String, _ daemon: DaemonHarness) throws -> (Int32, String, String) {
    let r = try Xcsh.run(["--socket", daemon.socket, "-c", code], stdin: Data(stdin.utf8))
    return (r.status, r.stdout, r.stderr)
  }

  @Test func interactiveRunReadsPipedInput() throws {
    let e2e = ObjectCommandsE2ETests()
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // xcsh's own stdin (an external pipe): main reads it to EOF.
      var (status, out, err) = try xcsh(
        "run -i busybox:latest -- sh -c 'tr a-z A-Z; echo end'", stdin: "from-outside\nline two\n", daemon)
      #expect(status == 0, "\(err)")
      #expect(out == "FROM-OUTSIDE\nLINE TWO\nend\n", "\(out) \(err)")
      // Without -i main gets no input: it sees EOF at once even with data on xcsh's stdin.
      (status, out, err) = try xcsh("run busybox:latest -- sh -c 'cat; echo nothing-read'", stdin: "ignored\n", daemon)
      #expect(status == 0 && out == "nothing-read\n", "\(out) \(err)")
      // A value piped into `run -i`: a string, a list (one item a line), an external's bytes.
      #expect(try e2e.ok("print ('hello' | run -i busybox:latest -- cat)", daemon) == "hello\n")
      #expect(try e2e.ok("print ([a b c] | run -i busybox:latest -- wc -l | str trim)", daemon) == "3\n")
      #expect(try e2e.ok("print (^printf 'x\\ny\\n' | run -i busybox:latest -- sort -r)", daemon) == "y\nx\n")
      // Main exits without reading everything: the feed ends, the command does not hang.
      let big = "1..200000 | run -i busybox:latest -- head -n 1"
      #expect(try e2e.ok(big, daemon) == "1\n")
      // The exit status is still main's.
      (status, _, err) = try xcsh("'x' | run -i busybox:latest -- sh -c 'read l; exit 4'", stdin: "", daemon)
      #expect(status == 4, "\(err)")
      try e2e.expectNoContainers(client)
    }
  }
}
