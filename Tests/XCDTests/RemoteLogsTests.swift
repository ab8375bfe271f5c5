import Foundation
import Glibc
import Testing
import XCIPC
import XCRemote
import XCTestSupport

/// `logs` and `wait --log` on a remote host read the log on that host, through the relay's
/// `read` streams. The test's sshd shares this machine's file system, so xcsh runs here in a
/// mount namespace of its own where the daemon's state directory is covered by an empty tmpfs:
/// the log path the daemon names is not there for xcsh (checked), while the relay, started by
/// sshd in the test's mount namespace, reads the real file. Reading the path locally fails
/// with `logs.read` (as it did before read streams). Part of the serialized RemoteHostTests
/// suite (its harnesses are named by pid).
extension RemoteHostTests {
  /// Runs xcsh with the daemon's state directory hidden from it (see above).
  func hiddenXcsh(
    _ daemon: DaemonHarness, _ host: SSHHostHarness, _ url: String, _ code: String, seconds: Double = 120
  ) throws -> (status: Int32, out: String, err: String) {
    try runXcsh(["--host", url, "-c", code], environment: host.environment(), seconds: seconds, wrapper: hiding(daemon.stateDir))
  }

  /// A command line running what follows it in a private mount namespace where `dir` is an
  /// empty tmpfs (gone with the namespace: nothing is mounted in the test's own).
  func hiding(_ dir: String) -> [String] {
    ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", #"mount -t tmpfs -o size=1m,mode=0700 xcsh-hidden "$0" && exec "$@""#, dir]
  }

  @Test func logsAndWaitForALogLineReadTheLogOnTheHostThroughTheRelay() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      var r = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest | ignore"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      // wait --log reads the log too: it sees "three" only through the relay.
      r = try hiddenXcsh(
        daemon, host, url,
        """
        run -d busybox:latest --name talker -- sh -c 'echo one; echo two >&2; echo three; while [ ! -e /go ]; do sleep 0.1; done; echo four; echo five >&2' | ignore
        wait talker --log three --timeout 30s | ignore
        """)
      #expect(r.status == 0, "\(r.err)")

      // The path the daemon names is on its host (here, in the test's mount namespace) and
      // not where xcsh runs.
      let client = try daemon.client()
      defer { client.close() }
      let path = try #require(try client.call(LogsRequest(name: "talker", process: "main")).stdoutLogFile)
      #expect(path.hasPrefix(daemon.stateDir + "/"))
      #expect(FileManager.default.fileExists(atPath: path))
      _ = try host.run(
        "/usr/bin/unshare",
        ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", #"mount -t tmpfs xcsh-hidden "$0" && test -d "$0" && test ! -e "$1""#, daemon.stateDir, path])

      // On a terminal: stdout lines on stdout, stderr lines on stderr, filters and times.
      r = try hiddenXcsh(daemon, host, url, "logs talker")
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "one\nthree\n" && r.err == "two\n", "\(r.out) | \(r.err)")
      r = try hiddenXcsh(daemon, host, url, "logs talker --stdout --tail 1 --timestamps --since 10m")
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out.hasSuffix("Z three\n") && r.out.split(separator: "\n").count == 1, "\(r.out)")
      #expect(r.out.first == "2", "a RFC 3339 time first: \(r.out)")
      // In a pipe: records (the two streams are read from two pipes there, so only each
      // stream's own order is fixed).
      r = try hiddenXcsh(daemon, host, url, "logs talker | each {|l| [$l.stream $l.line] | str join ':' } | sort | str join ','")
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "stderr:two,stdout:one,stdout:three\n", "\(r.out)")

      // --follow: everything so far, then what the container writes once the follower has
      // asked for the log (so it can only come by following), ending with the container —
      // whose log xcd moves to ended/<id>/ meanwhile, where the follower reads on.
      let callsBefore = daemon.log.components(separatedBy: "xcsh.logs (").count
      let followed = Box<(status: Int32, out: String, err: String)?>(nil)
      let done = DispatchSemaphore(value: 0)
      let wrapper = hiding(daemon.stateDir)
      Thread.detachNewThread {
        followed.set(try? runXcsh(["--host", url, "-c", "logs talker --follow"], environment: env, seconds: 90, wrapper: wrapper))
        done.signal()
      }
      let deadline = Date().addingTimeInterval(30)
      while daemon.log.components(separatedBy: "xcsh.logs (").count <= callsBefore, Date() < deadline {
        usleep(20_000)  // polling the daemon's log, bounded by the deadline
      }
      #expect(daemon.log.components(separatedBy: "xcsh.logs (").count > callsBefore, "the follower never called xcsh.logs")
      r = try runXcsh(["--host", url, "-c", "exec talker -- touch /go"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(done.wait(timeout: .now() + 90) == .success, "logs --follow did not end with the container")
      let f = try #require(followed.get())
      #expect(f.status == 0, "\(f.err)")
      #expect(f.out == "one\nthree\nfour\n" && f.err == "two\nfive\n", "\(f.out) | \(f.err)")

      // After the end: the kept log, at its new path, read whole.
      let ended = try #require(try client.call(LogsRequest(name: "talker", process: "main")).stdoutLogFile)
      #expect(ended != path && ended.hasPrefix(daemon.stateDir + "/ended/"), "\(ended)")
      r = try hiddenXcsh(daemon, host, url, "[(logs talker --stdout | get line | str join ',') (logs talker --stderr | get line | str join ',')] | str join ' '")
      #expect(r.out == "one,three,four two,five\n", "\(r.out) \(r.err)")

      // The same path read on this machine is what failed before: `logs.read`.
      r = try runXcsh(["--socket", daemon.socket, "-c", "logs talker | length"], environment: env, wrapper: hiding(daemon.stateDir))
      #expect(r.status != 0)
      #expect(r.err.contains("cannot read the log file \(ended)"), "\(r.err)")
      try expectNoContainers(daemon)
    }
  }
}

extension RemoteHostTests {
  /// A pre-built relay from before read streams still says version 2, so the session opens;
  /// `logs` then fails at once, naming the host and what to rebuild, instead of sending a SYN
  /// the old relay would take for a connect stream. The old relay is today's relay.c without
  /// the read bit in its handshake — all xcsh sees of an old one.
  @Test func logsThroughAPreBuiltRelayWithoutReadStreamsSaysItIsTooOld() throws {
    try withRemote { host, daemon, url in
      var env = host.environment()
      let source = try String(contentsOfFile: DaemonHarness.repoRoot + "/Sources/xcsh-relay/relay.c", encoding: .utf8)
      let capability = "(1u << K_READ) | "
      try #require(source.contains(capability), "relay.c's CAPS changed: update this test")
      try source.replacingOccurrences(of: capability, with: "").write(toFile: host.dir + "/old-relay.c", atomically: true, encoding: .utf8)
      try host.run("/usr/bin/env", ["cc", "-O2", "-o", host.dir + "/old-relay", host.dir + "/old-relay.c"])
      try """
        hosts:
          old:
            address: \(url)
            relay: \(host.dir)/old-relay

        """.write(toFile: host.dir + "/hosts.yaml", atomically: true, encoding: .utf8)
      env["XCSH_HOSTS"] = host.dir + "/hosts.yaml"
      var r = try runXcsh(
        ["--host", "old", "-c", "image import \(try Fixtures.archive()) busybox:latest | ignore; run -d busybox:latest --name said -- echo hi | ignore; wait said --exit --timeout 30s | ignore"],
        environment: env)
      #expect(r.status == 0, "\(r.err)")
      r = try runXcsh(["--host", "old", "-c", "logs said"], environment: env, seconds: 60)
      #expect(r.status != 0)
      #expect(r.err.contains("the relay on \(SSHHostHarness.alias)") && r.err.contains("is too old to read logs"), "\(r.err)")
      #expect(r.err.contains("Sources/xcsh-relay/relay.c"), "\(r.err)")
      #expect(r.out.isEmpty)
      // The same host with the relay xcsh builds reads it.
      r = try runXcsh(["--host", url, "-c", "logs said"], environment: host.environment())
      #expect(r.status == 0 && r.out == "hi\n", "\(r.out) \(r.err)")
      try expectNoContainers(daemon)
    }
  }
}
