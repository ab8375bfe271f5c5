import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
import XCRemote
import XCSystem
import XCTestSupport

let hasSSHD = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")
  && FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh")

/// `--host` end to end: the built xcsh drives a real xcd through a real sshd running in a
/// network namespace the test creates, over ssh and the relay compiled there on first contact.
@Suite(.serialized, .enabled(if: runsAsRoot && hasSSHD, "needs root (netns, runc) and openssh"))
struct RemoteHostTests {
  /// Runs `body` with a fresh "remote host" and a fresh daemon behind it; tears both down and
  /// checks nothing is left (namespace, veth, sshd, control masters, relays, containers).
  func withRemote(_ body: (SSHHostHarness, DaemonHarness, String) throws -> Void) throws {
    let host = try SSHHostHarness()
    defer {
      host.tearDown()
      host.expectGone()
    }
    try withDaemon { daemon in
      try body(host, daemon, "ssh://\(SSHHostHarness.alias)\(daemon.socket)")
      host.stopControlMasters()
      try expectNoRelay(host)
    }
  }

  /// Waits (bounded) until no relay process of this harness runs.
  func expectNoRelay(_ host: SSHHostHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline, !relays(host).isEmpty { usleep(50_000) }  // polling, bounded
    #expect(relays(host).isEmpty, "relays left: \(relays(host))", sourceLocation: sourceLocation)
  }

  /// The relays serving a session (a listener kept between processes is not one).
  func relays(_ host: SSHHostHarness) -> [String] {
    host.sessionRelays(hash: RelaySource.hash)
  }

  func expectNoContainers(_ daemon: DaemonHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let client = try daemon.client()
    defer { client.close() }
    let deadline = Date().addingTimeInterval(30)
    while try !client.call(ListContainersRequest()).isEmpty, Date() < deadline { usleep(50_000) }  // kill is asynchronous
    #expect(try client.call(ListContainersRequest()).isEmpty, sourceLocation: sourceLocation)
  }

  @Test func relayBuiltOnFirstContactThenReusedAndEveryDescriptorKindCrosses() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      // First contact: the relay is compiled there; the archive is uploaded (fd_import).
      let archive = try Fixtures.archive()
      var r = try runXcsh(["--host", url, "-c", "image import \(archive) busybox:latest | get image_reference"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "busybox:latest\n")
      #expect(r.err.contains("built the relay on \(SSHHostHarness.alias)"), "\(r.err)")
      #expect(FileManager.default.isExecutableFile(atPath: "\(host.remoteCache)/relay-\(RelaySource.hash)"))

      // Reused: no build; a foreground run's stdout, stderr and exit status (stdout, stderr
      // pipes and the exit eventfd across the relay).
      r = try runXcsh(["--host", url, "-c", "run busybox:latest -- sh -c 'echo to-out; echo to-err >&2; exit 3'"], environment: env)
      #expect(!r.err.contains("built the relay"), "\(r.err)")
      #expect(r.status == 3, "\(r.err)")
      #expect(r.out == "to-out\n")
      #expect(r.err.contains("to-err"))
      #expect(r.err.contains("exited with status 3"), "\(r.err)")

      // stdin's EOF arrives as EOF: cat ends and its output is all the input.
      let input = Array((0..<2000).map { "line \($0)\n" }.joined().utf8)
      r = try runXcsh(["--host", url, "-c", "run -i busybox:latest -- cat"], environment: env, input: input)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out.utf8.count == input.count)
      #expect(Array(r.out.utf8) == input)

      // exec with a failing command: its status comes back through the exec's eventfd.
      r = try runXcsh(
        ["--host", url, "-c", "let c = (run -d busybox:latest --name rx -- sleep 1000); defer { kill $c }; exec $c -- sh -c 'echo in-exec; exit 4'"],
        environment: env)
      #expect(r.status != 0)
      #expect(r.out == "in-exec\n")
      #expect(r.err.contains("status 4"), "\(r.err)")
      try expectNoContainers(daemon)
    }
  }

  @Test func largeImportCopyBothWaysAndCommitToALocalFile() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      _ = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest"], environment: env)
      // A 20 MiB layer: every byte must arrive (the diff id is the digest of the tar).
      let big = host.dir + "/big"
      try FileManager.default.createDirectory(atPath: big + "/data", withIntermediateDirectories: true)
      try host.run("/bin/sh", ["-c", "head -c 20971520 /dev/urandom > \(big)/data/blob && tar -C \(big) -cf \(host.dir)/big.tar data"])
      let digest = try host.run("/bin/sh", ["-c", "sha256sum \(host.dir)/big.tar | cut -d' ' -f1"]).trimmingCharacters(in: .whitespacesAndNewlines)
      var r = try runXcsh(["--host", url, "-c", "image import \(host.dir)/big.tar big:1 | get diff_id"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "sha256:\(digest)\n")

      // cp both ways (upload: the tar stream in; download: the tar stream out).
      try "from-here\n".write(toFile: host.dir + "/note", atomically: true, encoding: .utf8)
      try FileManager.default.createDirectory(atPath: host.dir + "/back", withIntermediateDirectories: true)
      r = try runXcsh(
        [
          "--host", url, "-c",
          "let c = (run -d busybox:latest --name cp1 -- sleep 1000); defer { kill $c }; cp \(host.dir)/note cp1:/tmp; exec $c -- sh -c 'echo there >> /tmp/note'; cp cp1:/tmp/note \(host.dir)/back",
        ], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect((try? String(contentsOfFile: host.dir + "/back/note", encoding: .utf8)) == "from-here\nthere\n")
      try expectNoContainers(daemon)

      // commit with alt_out: the layer lands in a local file before the call returns.
      var options = SSHOptions(runtimeDirectory: env["XCSH_RUNTIME_DIR"]! + "/ssh")
      options.configFile = host.sshConfig
      options.controlPersist = "30"
      let conn = try SSHTransport.connect(RemoteHost(host: SSHHostHarness.alias, socketPath: daemon.socket), options: options)
      defer { conn.close() }
      let started = try EventFD.create()
      defer { close(started.rawValue) }
      var req = InstantiateRequest(imageReference: "busybox:latest")
      req.name = "cm1"
      req.entryPoint = EntryPoint(entryPoint: "/bin/sh", entryPointArgs: ["-c", "echo layer > /made-here; sleep 1000"])
      req.mainStartedNotify = FDRef(started.fileDescriptor)
      _ = try conn.session.call(req)
      #expect(try started.waitReadable(milliseconds: 30_000))
      let layer = host.dir + "/layer.zst"
      let fd = open(layer, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
      let commit = try conn.session.call(CommitRequest(containerName: "cm1", name: "cm", tag: "1", altOut: FDRef(FileDescriptor(rawValue: fd))))
      close(fd)
      _ = try conn.session.call(KillContainerRequest(name: "cm1"))
      let local = try host.run("/bin/sh", ["-c", "zstd -dc \(layer) | sha256sum | cut -d' ' -f1"]).trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(commit.commitId == "sha256:\(local)")
      #expect(try host.run("/bin/sh", ["-c", "zstd -dc \(layer) | tar -t"]).contains("made-here"))
      try expectNoContainers(daemon)
    }
  }

  /// `run -it`, `exec -t` and `attach` on a real terminal (tmux) through sshd and the relay:
  /// the terminal socket of the remote xcd is reached by a connect stream. Keys typed here run
  /// there, the output comes back, `exit` ends with its status, Ctrl-P q detaches.
  @Test func terminalsThroughTheRelayOnARealPty() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      var r = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest | ignore"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      let keep = ["XCSH_SSH_CONFIG", "XCSH_RUNTIME_DIR", "XCSH_SSH_CONTROL_PERSIST"]
      let tmuxEnv = env.filter { keep.contains($0.key) }
      var opened: [TmuxSession] = []
      defer { opened.forEach { $0.close() } }
      /// Waits for busybox sh's prompt and for its line editor to read keys: it may drop keys
      /// typed while it starts (it asks the terminal for the cursor position), so a probe key
      /// is typed until it echoes (bounded), then erased.
      func shellReady(_ t: TmuxSession) throws {
        try t.waitFor("/ #", timeout: 60)
        for _ in 0..<10 {
          try t.type("#")
          if (try? t.waitFor("/ # #", timeout: 3)) != nil { break }
        }
        try t.waitFor("/ # #", timeout: 1)
        while try t.screen().contains("/ # #") {
          try t.press("BSpace")
          try t.waitFor("probe erased", timeout: 3) { !$0.contains("/ # ##") }
          if try !t.screen().contains("/ # #") { break }
        }
      }
      /// A tmux session running `script` with xcsh on this host; the pane stays after xcsh
      /// ends and shows its exit status.
      func session(_ name: String, _ script: String) throws -> TmuxSession {
        let wrapper = "\(host.dir)/\(name).sh"
        let quoted = script.replacingOccurrences(of: "'", with: "'\\''")
        try "#!/bin/sh\n'\(XCShellObjectTests.xcsh)' --host '\(url)' -c '\(quoted)'\necho \"xcsh-exit=$?\"\nexec sleep 600\n"
          .write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        let t = try TmuxSession(home: host.dir + "/home-" + name, xcsh: wrapper, defaultSocket: true, environment: tmuxEnv)
        opened.append(t)
        return t
      }

      // run -it: a shell in the container on a pty there.
      var t = try session("run", "run -it busybox:latest -- sh")
      try shellReady(t)
      try t.type("echo hi-$((6*7))")
      try t.press("Enter")
      try t.waitFor("hi-42")
      try t.type("tty; exit 7")
      try t.press("Enter")
      var screen = try t.waitFor("xcsh-exit=", timeout: 30)
      #expect(screen.contains("xcsh-exit=7"), "\(screen)")
      #expect(screen.contains("/dev/pts/"), "\(screen)")
      t.close()
      try expectNoContainers(daemon)

      // exec -t: a second process on its own pty.
      t = try session("exec", "let c = (run -d busybox:latest --name tx -- sleep 1000); defer { kill $c }; exec -t $c -- sh")
      try shellReady(t)
      try t.type("echo ex-$((2+3))")
      try t.press("Enter")
      try t.waitFor("ex-5")
      try t.type("exit 4")
      try t.press("Enter")
      screen = try t.waitFor("xcsh-exit=", timeout: 30)
      #expect(screen.contains("xcsh-exit=4"), "\(screen)")
      t.close()
      try expectNoContainers(daemon)

      // attach to a detached terminal container, type, then Ctrl-P q: the container stays.
      t = try session(
        "attach",
        "let c = (run -d -t busybox:latest --name ta -- sh); attach $c; print \"detached, running: $(ps | where name == ta | length)\"; kill $c")
      try shellReady(t)
      try t.type("echo at-$((1+1))")
      try t.press("Enter")
      try t.waitFor("at-2")
      try t.press("C-p")
      try t.type("q")
      screen = try t.waitFor("xcsh-exit=", timeout: 30)
      #expect(screen.contains("detached, running: 1"), "\(screen)")
      #expect(screen.contains("xcsh-exit=0"), "\(screen)")
      t.close()
      try expectNoContainers(daemon)

      // A terminal socket that is not there: the error names it, from the host.
      r = try runXcsh(["--host", url, "-c", "let c = (run -d busybox:latest --name nt -- sleep 1000); defer { kill $c }; attach $c"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("its main process is not on a terminal"), "\(r.err)")
      try expectNoContainers(daemon)
    }
  }

  /// The window size of the terminal here reaches the pty on the remote host: `xcsh.resize`
  /// goes over the relay's ordinary call stream, at the start and after a resize.
  @Test func windowSizeReachesARemotePty() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      let r = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest | ignore"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      let keep = ["XCSH_SSH_CONFIG", "XCSH_RUNTIME_DIR", "XCSH_SSH_CONTROL_PERSIST"]
      let t = try WindowSizeCheck.session(
        in: host.dir, "winsize", xcsh: "'\(XCShellObjectTests.xcsh)' --host '\(url)'",
        "run -it busybox:latest -- sh -c '\(WindowSizeCheck.loop)'", environment: env.filter { keep.contains($0.key) })
      defer { t.close() }
      try WindowSizeCheck.expectFollowed(t)
      try WindowSizeCheck.end(t)
      t.close()
      try expectNoContainers(daemon)
    }
  }

  @Test func sshFailuresAndAMissingDaemonSayHostAndStageWithoutHanging() throws {
    let host = try SSHHostHarness()
    defer {
      host.tearDown()
      host.expectGone()
    }
    // Each case its own runtime directory: a master for the good host must not be reused.
    var r = try runXcsh(["--host", "ssh://xcsh-test-wrong-hostkey/run/xc.sock", "-c", "ps"], environment: host.environment(runtime: "rt-hk"), seconds: 60)
    #expect(r.status != 0)
    #expect(r.err.contains("host xcsh-test-wrong-hostkey: ssh failed"), "\(r.err)")
    #expect(r.err.contains("Host key verification failed"), "\(r.err)")

    r = try runXcsh(["--host", "ssh://xcsh-test-wrong-key/run/xc.sock", "-c", "ps"], environment: host.environment(runtime: "rt-key"), seconds: 60)
    #expect(r.status != 0)
    #expect(r.err.contains("host xcsh-test-wrong-key: ssh failed"), "\(r.err)")
    #expect(r.err.contains("Permission denied (publickey"), "\(r.err)")

    r = try runXcsh(["--host", "ssh://\(SSHHostHarness.alias)\(host.dir)/no-daemon.sock", "-c", "ps"], environment: host.environment(), seconds: 60)
    #expect(r.status != 0)
    #expect(r.err.contains("host \(SSHHostHarness.alias): no daemon is listening at \(host.dir)/no-daemon.sock"), "\(r.err)")
    #expect(r.err.contains("start xcd there"), "\(r.err)")
    host.stopControlMasters()
  }

  /// ssh dies while a container reads stdin through the relay: xcsh says the host's
  /// connection was lost, the relay exits there, cat sees EOF and xcd removes the container.
  @Test func sshKilledMidRunLeavesNothingOnTheHost() throws {
    try withRemote { host, daemon, url in
      var env = host.environment()
      // A relay per process over its own ssh (the one killed below), not the listener's.
      env["XCSH_RELAY_PERSIST"] = "0"
      _ = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest"], environment: env)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
      p.arguments = ["--host", url, "-c", "run -i busybox:latest --name held -- cat"]
      p.environment = env
      let input = Pipe()  // kept open: only the lost connection ends cat's input
      let err = Pipe()
      p.standardInput = input
      p.standardOutput = FileHandle.nullDevice
      p.standardError = err
      let done = DispatchSemaphore(value: 0)
      p.terminationHandler = { _ in done.signal() }
      try p.run()
      defer { try? input.fileHandleForWriting.close() }
      let client = try daemon.client()
      defer { client.close() }
      let deadline = Date().addingTimeInterval(60)
      while try client.call(ListContainersRequest()).isEmpty, Date() < deadline { usleep(50_000) }  // bounded
      #expect(try client.call(ListContainersRequest()).count == 1)
      #expect(relays(host).count == 1, "\(relays(host))")
      // Kill every ssh of this test (the client and its control master).
      for line in host.leftoverProcesses() where line.contains("ssh ") && line.contains(host.sshConfig) && !line.contains("sshd") {
        if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGKILL) }
      }
      #expect(done.wait(timeout: .now() + 30) == .success, "xcsh did not end after ssh died")
      let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      #expect(p.terminationStatus != 0)
      #expect(text.contains("host \(SSHHostHarness.alias): connection lost"), "\(text)")
      try expectNoRelay(host)
      try expectNoContainers(daemon)
    }
  }
}
