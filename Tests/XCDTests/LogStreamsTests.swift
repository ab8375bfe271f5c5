import Foundation
import Testing
import XCIPC
import XCSystem

/// `logs` like `docker logs` against the real xcd: a container writes to both streams in two
/// phases (the second only once the test has created `/go` in it, after noting the time), so
/// `--since`/`--until` split exactly at that time; `--stdout`/`--stderr`, `--tail`,
/// `--timestamps`, records with a datetime, and `--follow --stderr --since` from a follower
/// started before the second phase, which ends with the container. All after the end too.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct LogStreamsTests {
  let e2e = ObjectCommandsE2ETests()

  @Test func streamsTimesAndFollowLikeDockerLogs() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try e2e.ok(
        """
        run busybox:latest -d --name two -- sh -c 'echo out1; echo err1 >&2; while [ ! -e /go ]; do sleep 0.1; done; echo out2; echo err2 >&2; printf partial; exit 3' | ignore
        wait two --log err1 --timeout 30s | ignore
        """, daemon)
      // Phase one is logged (out1 was written before err1): everything later is after `split`.
      var ts = timespec()
      clock_gettime(CLOCK_REALTIME, &ts)
      let split = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
      let at = String(decoding: LogRecord.timestamp(split), as: UTF8.self)

      // A follower of stderr from `split` on, started before phase two.
      let follower = FollowerRun.start(
        daemon, ["--json", "-c", "logs two --follow --stderr --since '\(at)'"], timeout: .seconds(60))
      _ = try e2e.ok("exec two -- touch /go", daemon)
      let followed = try follower.finished(within: 60)
      #expect(followed.status == 0, "\(followed.stderr)")
      let records = try #require(try JSONSerialization.jsonObject(with: Data(followed.stdout.utf8)) as? [[String: String]], "\(followed.stdout)")
      #expect(records.map { $0["line"] } == ["err2"] && records.map { $0["stream"] } == ["stderr"], "\(records)")
      #expect(records.first?["time"].flatMap { $0 >= at ? $0 : nil } != nil, "\(records) after \(at)")

      #expect(try e2e.ok("wait two --exit --timeout 30s | get exit_code", daemon) == "3\n")
      try e2e.expectNoContainers(client)

      // After the end: the terminal gets each stream on its own, as `docker logs`.
      let (status, out, err) = try e2e.xcsh("logs two", daemon)
      #expect(status == 0 && out == "out1\nout2\npartial" && err == "err1\nerr2\n", "\(out) | \(err)")
      let filtered = try e2e.ok(
        """
        print (logs two --since '\(at)' --stdout | get line | str join ',')
        print (logs two --until '\(at)' | get line | str join ',')
        print (logs two --since 10m | length)
        print (logs two --stderr --tail 1 | get line | str join ',')
        print ((logs two | get 0.time) > ((date now) - 10m))
        """, daemon)
      #expect(filtered == "out2,partial\nout1,err1\n5\nerr2\ntrue\n", "\(filtered)")
      let stamped = try e2e.xcsh("logs two --timestamps --stderr --tail 1", daemon)
      #expect(stamped.0 == 0 && stamped.1.isEmpty && stamped.2.hasSuffix("Z err2\n") && stamped.2.count == 31 + 5, "\(stamped)")
      #expect(String(stamped.2.prefix(30)) > at, "\(stamped.2) after \(at)")

      _ = try e2e.ok("rm two", daemon)
      #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/ended").isEmpty)
      let left = try LeakCount.of(daemon)
      #expect(left.mounts == 0 && left.containerDirs == 0 && left.runcState == 0 && left.leases == 0, "\(left)")
    }
  }

  /// A follower across trims of the 1 MiB log: it goes on in each new file after the last record
  /// it read, so no line repeats and the order holds, and it ends with the container.
  @Test func followAcrossTrimsNeverRepeats() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      _ = try e2e.ok(
        """
        run busybox:latest -d --name busy -- sh -c 'echo ready; while [ ! -e /go ]; do sleep 0.1; done; i=0; while [ $i -lt 40000 ]; do echo "line $i ................................................"; i=$((i+1)); done; echo END' | ignore
        wait busy --log ready --timeout 30s | ignore
        """, daemon)
      let follower = FollowerRun.start(daemon, ["-c", "logs busy --follow"], timeout: .seconds(240))
      _ = try e2e.ok("exec busy -- touch /go", daemon)
      let r = try follower.finished(within: 240)
      #expect(r.status == 0, "\(r.stderr.suffix(300))")
      let lines = r.stdout.split(separator: "\n")
      #expect(lines.first == "ready" && lines.last == "END", "\(lines.prefix(2)) … \(lines.suffix(2))")
      let numbers = lines.dropFirst().dropLast().compactMap { Int($0.split(separator: " ")[1]) }
      #expect(numbers.count == lines.count - 2)
      #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 }, "a line repeated or came out of order")
      #expect(numbers.count >= 5000 && numbers.last == 39999, "\(numbers.count) lines, last \(numbers.last ?? -1)")
      try e2e.expectNoContainers(client)
      _ = try e2e.ok("rm busy", daemon)
    }
  }

  /// `exec --detach`: the process's output is logged as its own records (not main's), `logs
  /// --process ID --follow` ends when it exits, and the log is kept with the ended container.
  @Test func aDetachedExecIsLoggedUnderItsId() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let out = try e2e.ok(
        """
        run busybox:latest -d --name host1 -- sh -c 'echo main-line; exec sleep 1000' | ignore
        wait host1 --log main-line --timeout 30s | ignore
        let job = (exec host1 -d -- sh -c 'echo job-out; echo job-err >&2; printf job-end; exit 4')
        print ($job.process | str length)
        print (logs host1 --process $job.process --follow | get line | str join ',')
        print (logs host1 --process $job.process --stderr | get line | str join ',')
        print (show host1 | get processes | get $job.process | get exit_code)
        print (logs host1 | get line | str join ',')
        kill host1
        print (logs host1 --process $job.process --stdout | get line | str join ',')
        """, daemon)
      #expect(out == "12\njob-out,job-err,job-end\njob-err\n1024\nmain-line\njob-out,job-end\n", "\(out)")
      try e2e.expectNoContainers(client)
      let kept = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/ended").first ?? ""
      let files = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/ended/" + kept)
      #expect(files.contains { $0.hasPrefix("exec-") && $0.hasSuffix(".output.log") }, "\(files)")
      _ = try e2e.ok("rm host1", daemon)
      #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/ended").isEmpty)
    }
  }

  /// A state dir from an older xcd: an ended container's `main.log` without the record header
  /// (raw interleaved output) is still shown, as text, after a restart; the filters refuse it.
  @Test func anOldFormatLogStaysReadable() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let id = try e2e.ok(
        """
        let c = (run busybox:latest -d --name old1 -- sh -c 'echo new-format')
        wait old1 --exit --timeout 30s | ignore
        print $c.id
        """, daemon).trimmingCharacters(in: .whitespacesAndNewlines)
      try e2e.expectNoContainers(client)
      try daemon.stop()
      let log = daemon.stateDir + "/ended/\(id)/main.log"
      #expect(FileManager.default.fileExists(atPath: log), "\(log)")
      try "old line 1\nold err\nold line 2\n".write(toFile: log, atomically: true, encoding: .utf8)
      try daemon.start()
      #expect(try e2e.ok("logs old1 --tail 2", daemon) == "old err\nold line 2\n")
      let (status, _, err) = try e2e.xcsh("logs old1 --stderr", daemon)
      #expect(status == 1 && err.contains("written by an older xcd"), "\(err)")
      _ = try e2e.ok("rm old1", daemon)
    }
  }
}
