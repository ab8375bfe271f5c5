import Foundation
import Glibc
import Testing
import XCEditor
import XCIPC
import XCObjects
import XCRemote
import XCShell
import XCTestSupport

/// `on HOST { … }`, objects carrying their `host`, and `fleet` end to end: three "hosts", each
/// a real sshd in a network namespace of its own; h0 and h1 each drive a real xcd of their own
/// (so a call that went to the wrong host shows), h2 points at a socket where no daemon listens
/// (the failing host). Part of the serialized RemoteHostTests suite: the sshd harnesses are
/// named by pid, and its relay checks see every relay of the process.
extension RemoteHostTests {
  /// What a fleet test gets: the hosts, the two daemons, and xcsh's environment (an inventory
  /// with hosts h0 h1 h2 and groups `web` = h0 h1, `all` = h0 h1 h2; one ssh_config for all).
  struct Fleet {
    var hosts: [SSHHostHarness]
    var daemons: [DaemonHarness]
    var env: [String: String]

    func xcsh(_ code: String, seconds: Double = 120) throws -> (status: Int32, out: String, err: String) {
      try runXcsh(["-c", code], environment: env, seconds: seconds)
    }

    /// The names of the containers each daemon lists.
    func containers() throws -> [[String]] {
      try daemons.map { d in
        let c = try d.client()
        defer { c.close() }
        return try c.call(ListContainersRequest()).map(\.name).sorted()
      }
    }
  }

  func withFleet(_ body: (Fleet) throws -> Void) throws {
    var hosts: [SSHHostHarness] = []
    defer {
      for h in hosts {
        h.tearDown()
        h.expectGone()
      }
    }
    for i in 0..<3 { hosts.append(try SSHHostHarness(index: i)) }
    try withDaemon { a in
      try withDaemon { b in
        let dir = hosts[0].dir
        let config = (0..<3).map { hosts[$0].configEntry("fleet-h\($0)") }.joined()
        try config.write(toFile: dir + "/fleet_ssh_config", atomically: true, encoding: .utf8)
        try """
          hosts:
            h0:
              address: ssh://fleet-h0\(a.socket)
            h1:
              address: ssh://fleet-h1\(b.socket)
            h2:
              address: ssh://fleet-h2\(hosts[2].dir)/no-daemon.sock
          groups:
            web: [h0, h1]
            all: [h0, h1, h2]

          """.write(toFile: dir + "/hosts.yaml", atomically: true, encoding: .utf8)
        var env = hosts[0].environment()
        env["XCSH_SSH_CONFIG"] = dir + "/fleet_ssh_config"
        env["XCSH_HOSTS"] = dir + "/hosts.yaml"
        let fleet = Fleet(hosts: hosts, daemons: [a, b], env: env)
        let r = try fleet.xcsh("fleet web {|h| image import \(try Fixtures.archive()) busybox:latest | get image_reference } | to json")
        #expect(r.status == 0, "\(r.err)")
        let rows = try hostCheckRecords(r.out)
        #expect(rows.map { $0["host"] as? String } == ["h0", "h1"])
        #expect(rows.allSatisfy { $0["ok"] as? Bool == true && $0["value"] as? String == "busybox:latest" && $0["error"] is NSNull }, "\(rows)")
        #expect(rows.allSatisfy { Set(($0 as NSDictionary).allKeys as? [String] ?? []) == ["host", "ok", "value", "error", "duration"] })

        try body(fleet)

        #expect(try fleet.containers() == [[], []])
        // The control masters all live in host 0's runtime directory; each host has its relay
        // listener.
        hosts[0].stopControlMasters()
        for h in hosts { h.stopRelayListeners() }
        try expectNoRelay(hosts[0])
      }
    }
  }

  @Test func fleetRecipeDeploysToAGroupAndAFailingHostIsARow() throws {
    try withFleet { fleet in
      // examples/fleet.xcs on the group, one host at a time: the test's hosts share this
      // machine's network, so two web servers on one port would collide.
      let recipe = DaemonHarness.repoRoot + "/examples/fleet.xcs"
      var r = try runXcsh([recipe, "web", "--batch", "1"], environment: fleet.env, seconds: 180)
      #expect(r.status == 0, "\(r.out)\n\(r.err)")
      #expect(r.out.contains("hello from h0") && r.out.contains("hello from h1"), "\(r.out)")
      #expect(try fleet.containers() == [[], []])

      // The failing host is a row (--keep-going); its error names the host and the stage.
      r = try fleet.xcsh("fleet all --batch 3 --keep-going {|h| ps | length } | to json")
      #expect(r.status == 0, "\(r.err)")
      let rows = try hostCheckRecords(r.out)
      #expect(rows.map { $0["host"] as? String } == ["h0", "h1", "h2"])
      guard rows.count == 3 else { return }
      #expect(rows[0]["ok"] as? Bool == true && rows[0]["value"] as? Int == 0)
      #expect(rows[2]["ok"] as? Bool == false && rows[2]["value"] is NSNull)
      #expect((rows[2]["error"] as? String ?? "").contains("host fleet-h2: no daemon is listening"), "\(rows[2])")
      #expect(rows[2]["duration"] as? Int ?? -1 >= 0, "\(rows[2])")

      // Without --keep-going a failed host fails the command (non-zero exit), naming it.
      r = try fleet.xcsh("fleet all {|h| ps | length }")
      #expect(r.status != 0)
      #expect(r.err.contains("1 of 3 hosts failed: h2 ("), "\(r.err)")
      #expect(r.err.contains("host fleet-h2: no daemon is listening"), "\(r.err)")

      // --max-fail: after the first failure no new host starts.
      r = try fleet.xcsh("fleet [h2 h0 h1] --batch 1 --max-fail 1 --keep-going {|h| ps | length } | to json")
      #expect(r.status == 0, "\(r.err)")
      let stopped = try hostCheckRecords(r.out)
      #expect(stopped.map { $0["ok"] as? Bool } == [false, false, false])
      #expect(stopped.dropFirst().allSatisfy { ($0["error"] as? String ?? "").hasPrefix("not started: 1 host had failed") }, "\(stopped)")
    }
  }

  @Test func onRoutesBlocksAndObjectsCarryTheirHost() throws {
    try withFleet { fleet in
      // Objects from a host carry it; a pipe mixing hosts kills each container on its own.
      var r = try fleet.xcsh(
        """
        let a = (on h0 { run -d busybox:latest --name r0 -- sleep 1000 })
        let b = (on h1 { run -d busybox:latest --name r1 -- sleep 1000 })
        print ([$a.host $b.host] | str join ",")
        print (on h0 { ps | get name | str join "," })
        print (on h1 { ps | get name | str join "," })
        [$a $b] | kill
        print (fleet web {|h| ps | length } | get value | str join ",")
        """)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "h0,h1\nr0\nr1\n0,0\n")

      // Nesting (the inner host wins), and a defer inside runs on the block's host.
      r = try fleet.xcsh(
        """
        let n = (on h0 { let c = (run -d busybox:latest --name d0 -- sleep 1000); defer { kill $c }; on h1 { ps | length } })
        print $n
        print (on h0 { ps | length })
        """)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "0\n0\n")
      #expect(try fleet.containers() == [[], []])

      // `on HOST { ps } | kill` outside the block still goes to the host.
      r = try fleet.xcsh("on h1 { run -d busybox:latest --name k1 -- sleep 1000 } | ignore; on h1 { ps } | kill; print (on h1 { ps | length })")
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "0\n")

      // --trace names the host of each remote call; --ephemeral cleans up on every host touched.
      r = try runXcsh(
        ["--trace", "--ephemeral", "-c", "on h0 { run -d busybox:latest --name e0 -- sleep 1000 } | ignore; on h1 { ps | length }"],
        environment: fleet.env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.err.contains("trace: [h0] instantiate"), "\(r.err)")
      #expect(r.err.contains("trace: [h1] list_containers"), "\(r.err)")
      #expect(r.err.contains("--ephemeral removed on h0: container e0"), "\(r.err)")
      #expect(try fleet.containers() == [[], []])

      // Errors name the host (and an unknown one is refused before anything runs).
      r = try fleet.xcsh("on h2 { ps }")
      #expect(r.status != 0)
      #expect(r.err.contains("host fleet-h2: no daemon is listening"), "\(r.err)")
      // A group or a list: the block on each host in turn, each call on its own host; the
      // first failure stops it there, naming the host.
      r = try fleet.xcsh(
        """
        print (on web {|h| run -d busybox:latest --name g$h -- sleep 1000 | get host } | str join ",")
        print (on [h1 h0] {|h| ps | get name | str join "," } | str join ";")
        on web {|h| ps } | flatten | kill
        """)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "h0,h1\ngh1;gh0\n")
      #expect(try fleet.containers() == [[], []])
      r = try fleet.xcsh("on all {|h| print $h; ps | length }")
      #expect(r.status != 0)
      #expect(r.out == "h0\nh1\nh2\n")
      #expect(r.err.contains("host fleet-h2: no daemon is listening"), "\(r.err)")
      r = try fleet.xcsh("on nosuch { print ran }")
      #expect(r.status != 0)
      #expect(!r.out.contains("ran"))
      #expect(r.err.contains("host `nosuch`"), "\(r.err)")

      // Twelve workers on one host at once: one session, calls serialised, every answer right.
      r = try fleet.xcsh(
        "1..12 | par-each -j 6 {|i| on h0 { let c = (run -d busybox:latest --name p$i -- sleep 1000); kill $c; $c.name } } | str join ','")
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == (1...12).map { "p\($0)" }.joined(separator: ",") + "\n")
      #expect(try fleet.containers() == [[], []])
    }
  }

  /// Images, networks and volumes given as objects act on the daemon they came from, wherever
  /// the command runs (outside any `on`, or inside `on` for the other host); the other daemon
  /// keeps its objects of the same names.
  @Test func imageNetworkVolumeObjectsRouteToTheirHost() throws {
    try withFleet { fleet in
      let (h0, h1) = (fleet.daemons[0], fleet.daemons[1])
      let r = try fleet.xcsh(
        """
        let img = (on h0 { images | where image_reference == "busybox:latest" | first })
        print (on h1 { image tag $img routed:1 | get host })
        on h0 { images } | where image_reference == "routed:1" | image rm
        let v = (on h0 { volume create rv0 })
        on h1 { volume create rv0 } | ignore
        on h1 { $v | volume rm }
        let n = (on h0 { network create rn0 10.91.0.0/24 })
        print $n.host
        on h1 { network rm $n }
        """)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "h0\nh0\n", "\(r.out)")
      func state(_ d: DaemonHarness) throws -> (images: [String], volumes: [String], networks: [String]) {
        let c = try d.client()
        defer { c.close() }
        return (
          try c.call(ListAllImagesRequest()).manifests.map(\.imageReference).sorted(),
          try c.call(ListVolumesRequest()).keys.sorted(),
          try c.call(ListNetworksRequest()).networkInfo.map(\.name).filter { $0 == "rn0" }
        )
      }
      // On h0: tagged then removed, volume and network removed; h1 untouched but for its rv0.
      let s0 = try state(h0)
      #expect(s0.images == ["busybox:latest"] && s0.volumes.isEmpty && s0.networks.isEmpty, "\(s0)")
      let s1 = try state(h1)
      #expect(s1.images == ["busybox:latest"] && s1.volumes == ["rv0"], "\(s1)")
      let c = try h1.client()
      defer { c.close() }
      _ = try c.call(RemoveVolumeRequest(name: "rv0"))

      // A terminal inside `on` is relayed from the block's host (the container's terminal socket
      // is next to h0's daemon, not on this machine); its exit status is the command's.
      let t = try fleet.xcsh("on h0 { run -t busybox:latest -- sh -c 'echo on-a-tty; tty; sleep 2; exit 5' }")
      #expect(t.status == 5, "\(t.err)")
      #expect(t.out.contains("on-a-tty") && t.out.contains("/dev/pts/"), "\(t.out)")
      let k = try fleet.xcsh("on h0 { ps | kill }")
      #expect(k.status == 0, "\(k.err)")
    }
  }

  /// Tab inside `on h0 { …` offers h0's live names through the session this process has open to
  /// h0; outside, the script's own daemon's; a host with no session offers none (none is opened).
  /// And `on local` under `--host`.
  @Test func completionInsideOnOffersTheHostsNamesAndLocalUnderHost() throws {
    try withFleet { fleet in
      let session = DaemonSession(socketPath: fleet.daemons[1].socket, explicit: true, environment: fleet.env)
      defer { session.finish() }
      let registry = Builtins.registry()
      for c in ObjectCommands.all(session) { registry.register(c) }
      let shell = Shell(options: ShellOptions(), registry: registry)
      func run(_ code: String) throws { _ = try shell.evaluate(SourceMap.shared.add(name: "<test>", text: code)) }
      try run("on h0 { run -d busybox:latest --name comp0 -- sleep 1000 } | ignore")
      let completer = Completer(shell: shell, hostObjectNames: { session.names(of: $0, on: $1) })
      #expect(completer.complete("on h0 { kill comp").candidates.map(\.text) == ["comp0"])
      #expect(completer.complete("on h0 { ps }; kill comp").candidates.map(\.text) == [])
      #expect(session.names(of: .container, on: "h1") == [])
      try run("on h0 { kill comp0 }")
      #expect(try fleet.containers() == [[], []])

      // With --host, `local` is this machine's daemon (here h1's, at $XC_SOCKET): its objects
      // say `host: local` and go back there from the script's own host.
      var env = fleet.env
      env["XC_SOCKET"] = fleet.daemons[1].socket
      let r = try runXcsh(
        [
          "--host", "h0", "-c",
          """
          let c = (on local { run -d busybox:latest --name loc1 -- sleep 1000 })
          print $c.host (ps | length) (on local { ps | get name | str join "," })
          kill $c
          print (on local { ps | length })
          """,
        ], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "local\n0\nloc1\n0\n", "\(r.out)")
      #expect(try fleet.containers() == [[], []])
    }
  }

  /// Ctrl-C while a fleet runs on two hosts: no new host, the running blocks are interrupted and
  /// their defers kill each container on its host; nothing is left on either.
  @Test func fleetInterruptedRunsTheDefersOnEveryHost() throws {
    try withFleet { fleet in
      let p = Process()
      p.executableURL = URL(fileURLWithPath: XCShellObjectTests.xcsh)
      p.arguments = [
        "-c",
        "fleet all --batch 2 --keep-going {|h| let c = (run -d busybox:latest --name long-$h -- sleep 1000); defer { kill $c }; print \"started $h\"; sleep 100sec }",
      ]
      p.environment = fleet.env
      let out = Pipe()
      let err = Pipe()
      p.standardOutput = out
      p.standardError = err
      p.standardInput = FileHandle.nullDevice
      let done = DispatchSemaphore(value: 0)
      p.terminationHandler = { _ in done.signal() }
      try p.run()
      // Both blocks started (a container on each host), read from stdout as it comes.
      let seen = Box<String>("")
      let bothStarted = DispatchSemaphore(value: 0)
      Thread.detachNewThread {
        let h = out.fileHandleForReading
        while true {
          let d = h.availableData
          if d.isEmpty { break }
          seen.set(seen.get() + String(decoding: d, as: UTF8.self))
          if seen.get().contains("started h0"), seen.get().contains("started h1") { bothStarted.signal() }
        }
      }
      let started = bothStarted.wait(timeout: .now() + 120) == .success
      #expect(started, "blocks did not start: \(seen.get())")
      #expect(try fleet.containers() == [["long-h0"], ["long-h1"]])
      kill(p.processIdentifier, SIGINT)
      let ended = done.wait(timeout: .now() + 60) == .success
      if !ended {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
      }
      #expect(ended, "xcsh did not end after SIGINT")
      let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      #expect(p.terminationStatus == 130, "\(text)")
      #expect(text.contains("interrupted"), "\(text)")
      #expect(!seen.get().contains("started h2"), "a new host started after Ctrl-C: \(seen.get())")
      #expect(try fleet.containers() == [[], []])
      // The sessions closed with xcsh: no relay runs on any host while the masters stay up.
      try expectNoRelay(fleet.hosts[0])
    }
  }
}
