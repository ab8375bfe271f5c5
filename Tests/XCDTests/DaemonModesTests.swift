import Foundation
import Glibc
import Testing
import XCIPC

/// `xcsh --dry-run`, `--ephemeral`, `--trace`, `par-each` over the daemon, and the private
/// daemon of `--isolated`, against the real xcd.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct DaemonModesTests {
  /// A started xcsh: its process and the files its output goes to.
  struct Run {
    let process: Process
    let out: String
    let err: String
    var stdout: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }

    /// Waits (bounded) for the process to end and returns its status.
    func wait(seconds: Double = 120) throws -> Int32 {
      let deadline = Date().addingTimeInterval(seconds)
      while process.isRunning {
        guard Date() < deadline else {
          process.terminate()
          throw TestFailure("xcsh did not end within \(Int(seconds)) s: \(stderr)")
        }
        usleep(20_000)  // polling for the exit, bounded by the deadline
      }
      return process.terminationStatus
    }

    /// Waits (bounded) until stdout contains `text`.
    func waitFor(_ text: String, seconds: Double = 60) throws {
      let deadline = Date().addingTimeInterval(seconds)
      while !stdout.contains(text) {
        guard Date() < deadline, process.isRunning else {
          throw TestFailure("xcsh never printed \(text): \(stdout) \(stderr)")
        }
        usleep(20_000)  // polling the output, bounded by the deadline
      }
    }
  }

  /// Starts xcsh with `arguments`, stdout and stderr to files in `dir`.
  func start(_ arguments: [String], dir: String, env: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
    p.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["XC_SOCKET"] = nil
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let tag = UUID().uuidString.prefix(8)
    let run = Run(process: p, out: "\(dir)/xcsh-\(tag).out", err: "\(dir)/xcsh-\(tag).err")
    _ = FileManager.default.createFile(atPath: run.out, contents: nil)
    _ = FileManager.default.createFile(atPath: run.err, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: run.out))
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: run.err))
    p.standardInput = FileHandle.nullDevice
    try p.run()
    return run
  }

  func xcsh(_ arguments: [String], dir: String, env: [String: String] = [:]) throws -> (Int32, String, String) {
    let r = try start(arguments, dir: dir, env: env)
    let status = try r.wait()
    return (status, r.stdout, r.stderr)
  }

  func containerNames(_ daemon: DaemonHarness) throws -> [String] {
    try daemon.client().call(ListContainersRequest()).map(\.name).sorted()
  }

  // MARK: - Dry run

  @Test func dryRunPlansAndCreatesNothing() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let before = try daemon.client().call(ListAllImagesRequest()).manifests.map(\.imageReference)
      let script = """
        let c = (run busybox:latest -d --name dr-web -e MODE=x -- sleep 100)
        print $c.id $c.name (ps | length)
        run busybox:latest -- echo hi
        exec $c -- ls /
        kill $c
        """
      let (status, out, err) = try xcsh(["--socket", daemon.socket, "--dry-run", "-c", script], dir: daemon.dir)
      #expect(status == 0, "\(err)")
      #expect(out == "dry-run-1\ndr-web\n0\n")
      let plan = err.split(separator: "\n").filter { $0.hasPrefix("+ ") }
      #expect(
        plan == [
          // hostname: xc's client sends the name as the host name when none is given.
          #"+ instantiate image=busybox:latest name=dr-web cmd="sleep 100" hostname=dr-web env=MODE=x"#,
          #"+ instantiate image=busybox:latest cmd="echo hi""#,
          #"+ exec container=dr-web cmd="ls /""#,
          "+ kill_container name=dr-web",
        ], "\(err)")
      #expect(try containerNames(daemon).isEmpty)
      #expect(try daemon.client().call(ListAllImagesRequest()).manifests.map(\.imageReference) == before)
      // The same script and state give the same plan.
      let again = try xcsh(["--socket", daemon.socket, "--dry-run", "-c", script], dir: daemon.dir)
      #expect(again.2 == err)
    }
  }

  /// A dry run survives a real script (issue 18): a wait succeeds at once with a plan line,
  /// killing a real container does not wait for a teardown that will not happen, and plan lines
  /// show paths as paths and `-p`.
  @Test func dryRunWaitsAndKillsAtOnceWithReadablePlans() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      var (status, _, err) = try xcsh(
        ["--socket", daemon.socket, "-c", "run busybox:latest -d --name dr-real -- sleep 1000 | ignore"], dir: daemon.dir)
      #expect(status == 0, "\(err)")
      let script = """
        let c = (run busybox:latest -d --name dr-p -p 8080:80 -v /tmp:/mnt:ro -- sleep 100)
        print (wait $c --port 80 --timeout 20s | get name)
        print (wait dr-real --exit --timeout 20s | get name)
        kill dr-real
        print done
        """
      let started = Date()
      var out: String
      (status, out, err) = try xcsh(["--socket", daemon.socket, "--dry-run", "-c", script], dir: daemon.dir)
      let seconds = Date().timeIntervalSince(started)
      #expect(status == 0, "\(err)")
      #expect(out == "dr-p\ndr-real\ndone\n", "\(err)")
      // Both waits have 20 s deadlines and a real kill waited up to 30 s for the teardown.
      #expect(seconds < 10, "took \(seconds) s")
      let plan = err.split(separator: "\n").filter { $0.hasPrefix("+ ") }
      #expect(
        plan == [
          #"+ instantiate image=busybox:latest name=dr-p cmd="sleep 100" hostname=dr-p mounts=/tmp:/mnt:ro publish=8080:80/tcp+udp"#,
          #"+ wait container=dr-p until="to accept connections on port 80" timeout=20s"#,
          #"+ wait container=dr-real until="to exit" timeout=20s"#,
          "+ kill_container name=dr-real",
        ], "\(err)")
      #expect(try containerNames(daemon) == ["dr-real"])
      (status, _, err) = try xcsh(["--socket", daemon.socket, "-c", "kill dr-real"], dir: daemon.dir)
      #expect(status == 0, "\(err)")
      try waitNoContainers(daemon)
    }
  }

  // MARK: - Ephemeral

  @Test func ephemeralRemovesOnSuccessErrorExitAndSIGTERM() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let base = ["--socket", daemon.socket, "--ephemeral", "-c"]
      // Success: the script's containers are gone when xcsh returns; another one is untouched.
      _ = try xcsh(["--socket", daemon.socket, "-c", "run busybox:latest -d --name keep-me -- sleep 1000 | ignore"], dir: daemon.dir)
      var (status, out, err) = try xcsh(
        base + ["run busybox:latest -d --name eph-a -- sleep 1000 | ignore; run busybox:latest -d --name eph-b -- sleep 1000 | ignore; print (ps | length)"],
        dir: daemon.dir)
      #expect(status == 0, "\(err)")
      #expect(out == "3\n")
      #expect(err.contains("xcsh: --ephemeral removed container eph-b"), "\(err)")
      #expect(try containerNames(daemon) == ["keep-me"])

      // An error: defers run, then the clean-up.
      (status, _, err) = try xcsh(
        base + ["defer { print 'deferred' }; run busybox:latest -d --name eph-c -- sleep 1000 | ignore; error make 'boom'"],
        dir: daemon.dir)
      #expect(status == 1)
      #expect(err.contains("boom") && err.contains("removed container eph-c"), "\(err)")
      #expect(try containerNames(daemon) == ["keep-me"])

      // `exit 3`.
      (status, _, err) = try xcsh(base + ["run busybox:latest -d --name eph-d -- sleep 1000 | ignore; exit 3"], dir: daemon.dir)
      #expect(status == 3, "\(err)")
      #expect(try containerNames(daemon) == ["keep-me"])

      // SIGTERM while the script waits.
      let r = try start(base + ["run busybox:latest -d --name eph-e -- sleep 1000 | ignore; print ready; sleep 100s"], dir: daemon.dir)
      try r.waitFor("ready")
      #expect(try containerNames(daemon) == ["eph-e", "keep-me"])
      kill(r.process.processIdentifier, SIGTERM)
      #expect(try r.wait() == 143, "\(r.stderr)")
      #expect(r.stderr.contains("interrupted by SIGTERM"), "\(r.stderr)")
      #expect(try containerNames(daemon) == ["keep-me"])

      // SIGINT (Ctrl-C) likewise.
      let i = try start(base + ["run busybox:latest -d --name eph-f -- sleep 1000 | ignore; print ready; sleep 100s"], dir: daemon.dir)
      try i.waitFor("ready")
      kill(i.process.processIdentifier, SIGINT)
      #expect(try i.wait() == 130, "\(i.stderr)")
      #expect(try containerNames(daemon) == ["keep-me"])

      _ = try daemon.client().call(KillContainerRequest(name: "keep-me"))
      try waitNoContainers(daemon)
    }
  }

  // MARK: - Trace

  @Test func traceShowsEachCall() throws {
    try withDaemon { daemon in
      let (status, out, err) = try xcsh(["--socket", daemon.socket, "--trace", "-c", "ps | length; kill nope"], dir: daemon.dir)
      #expect(status == 1)
      #expect(out == "0\n")
      let lines = err.split(separator: "\n").filter { $0.hasPrefix("trace: ") }
      // The third call confirms that no container answers to `nope` (container.not_found).
      #expect(lines.count == 3, "\(err)")
      #expect(lines.first?.hasPrefix("trace: list_containers null -> ok [] (") == true, "\(err)")
      #expect(lines.dropFirst().first?.hasPrefix(#"trace: kill_container {"name":"nope"} -> error "#) == true, "\(err)")
      #expect(err.contains("no container `nope`"), "\(err)")
    }
  }

  // MARK: - par-each

  @Test func parEachRunsTwentyContainersAndKillsThem() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let script = """
        let cs = (1..20 | par-each -j 20 {|i| run busybox:latest -d --name "pe-$i" -- sleep 1000 })
        print ($cs | get name | str join ",")
        print (ps | where name =~ "pe-" | length)
        $cs | par-each -j 8 {|c| kill $c } | ignore
        """
      let (status, out, err) = try xcsh(["--socket", daemon.socket, "-c", script], dir: daemon.dir)
      #expect(status == 0, "\(err)")
      #expect(out == (1...20).map { "pe-\($0)" }.joined(separator: ",") + "\n20\n", "\(err)")
      try waitNoContainers(daemon)
    }
  }

  @Test func parEachFailureCancelsTheRest() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let script = """
        [1 2 3] | par-each -j 3 {|i| if $i == 2 { run busybox:latest -- sh -c 'exit 7' } else { sleep 60s } }
        """
      let started = Date()
      let (status, _, err) = try xcsh(["--socket", daemon.socket, "-c", script], dir: daemon.dir)
      #expect(status == 7, "\(err)")
      #expect(err.contains("exited with status 7"), "\(err)")
      #expect(Date().timeIntervalSince(started) < 30, "the sleeping items were not cancelled")
      try waitNoContainers(daemon)
    }
  }

  func waitNoContainers(_ daemon: DaemonHarness) throws {
    let deadline = Date().addingTimeInterval(60)
    while try !containerNames(daemon).isEmpty, Date() < deadline { usleep(20_000) }
    #expect(try containerNames(daemon).isEmpty)
  }

  // MARK: - The private daemon (--isolated)

  /// Pids of processes whose command line mentions `text`.
  func processes(mentioning text: String) -> [Int32] {
    var pids: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), pid != getpid(),
        let cmd = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
      else { continue }
      if String(decoding: cmd, as: UTF8.self).contains(text) { pids.append(pid) }
    }
    return pids
  }

  func waitGone(_ text: String, seconds: Double = 60) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !processes(mentioning: text).isEmpty {
      if Date() > deadline { return false }
      usleep(20_000)  // polling /proc, bounded by the deadline
    }
    return true
  }

  @Test func isolatedDaemonStartsOnFirstUseAndStopsAtExit() throws {
    let harness = try DaemonHarness()  // only for its private directory
    defer { harness.remove() }
    let dir = harness.dir
    let embedded = dir + "/embedded"
    let env = [
      "XCSH_DEFAULT_SOCKET": dir + "/none.sock", "XCSH_EMBEDDED_DIR": embedded, "XCSH_XCD": DaemonHarness.binary,
    ]
    // A pure-language script starts nothing.
    var (status, out, err) = try xcsh(["--isolated", "-c", "print (1 + 1)"], dir: dir, env: env)
    #expect(status == 0 && out == "2\n" && err.isEmpty, "\(err)")
    #expect(!FileManager.default.fileExists(atPath: embedded))

    // The first daemon call starts xcd, says so once, and xcd stops when xcsh ends.
    (status, out, err) = try xcsh(["--isolated", "-c", "print (info | get config.socket_path); print (ps | length); print (ps | length)"], dir: dir, env: env)
    #expect(status == 0, "\(err)")
    #expect(out == "\(embedded)/xcd.sock\n0\n0\n")
    #expect(err == "xcsh: started a private xcd on \(embedded)/xcd.sock (state \(embedded)/state)\n")
    #expect(waitGone(embedded, seconds: 5), "xcd still running after xcsh ended")
    #expect(!FileManager.default.fileExists(atPath: embedded), "the embedded directory was left")

    // --keep-daemon leaves it running; it answers on its socket until we stop it.
    (status, _, err) = try xcsh(["--isolated", "--keep-daemon", "-c", "ps | ignore"], dir: dir, env: env)
    #expect(status == 0, "\(err)")
    #expect(err.contains("keeps running on \(embedded)/xcd.sock"), "\(err)")
    #expect(try XCClient(path: embedded + "/xcd.sock").call(ListContainersRequest()).isEmpty)
    for pid in processes(mentioning: embedded) { kill(pid, SIGTERM) }
    #expect(waitGone(embedded))

    // xcsh killed outright: xcd gets the parent-death signal and stops too.
    let r = try start(["--isolated", "-c", "ps | ignore; print up; sleep 100s"], dir: dir, env: env)
    try r.waitFor("up")
    #expect(!processes(mentioning: embedded).isEmpty)
    kill(r.process.processIdentifier, SIGKILL)
    _ = try r.wait()
    #expect(waitGone(embedded), "xcd outlived a killed xcsh")
    try? FileManager.default.removeItem(atPath: embedded)
  }

  @Test func defaultDaemonFailureIsAClearError() throws {
    let harness = try DaemonHarness()
    defer { harness.remove() }
    let dir = harness.dir
    // A "daemon" that exits at once: the error carries its output, for the private daemon and
    // for the shared local one alike.
    let fake = dir + "/xcd"
    try "#!/bin/sh\necho 'xcd: cannot start: test failure' >&2\nexit 3\n".write(toFile: fake, atomically: true, encoding: .utf8)
    chmod(fake, 0o755)
    let env = ["XCSH_DEFAULT_SOCKET": dir + "/none.sock", "XCSH_EMBEDDED_DIR": dir + "/embedded", "XCSH_XCD": fake]
    for isolated in [true, false] {
      var env = env
      env["XCSH_LOCAL_DIR"] = dir + "/local"
      let (status, _, err) = try xcsh((isolated ? ["--isolated"] : []) + ["-c", "ps"], dir: dir, env: env)
      #expect(status == 1)
      #expect(err.contains("cannot reach the xc daemon"), "\(err)")
      #expect(err.contains("exited with status 3 before answering"), "\(err)")
      #expect(err.contains("xcd: cannot start: test failure"), "\(err)")
      #expect(err.contains("--> <command>:1:1"), "\(err)")
    }
  }
}
