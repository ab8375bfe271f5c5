import Foundation
import Glibc
import Testing
import XCIPC

/// xcsh's object commands end to end: the built `xcsh` against the real xcd running real
/// containers. Commands whose daemon side is not served yet (networks, volumes, commit, rdr,
/// pull/push/login, mounts and ports in `run`) are covered by XCObjectsTests' wire tests.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ObjectCommandsE2ETests {
  /// Runs `xcsh --socket SOCKET -c CODE` (stdin /dev/null) and returns (status, stdout, stderr).
  func xcsh(_ code: String, _ daemon: DaemonHarness) throws -> (Int32, String, String) {
    let r = try Xcsh.run(["--socket", daemon.socket, "-c", code])
    return (r.status, r.stdout, r.stderr)
  }

  /// Output of a script expected to succeed.
  func ok(_ code: String, _ daemon: DaemonHarness, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let (status, out, err) = try xcsh(code, daemon)
    #expect(status == 0, "\(code): \(err)", sourceLocation: sourceLocation)
    return out
  }

  /// The daemon lists no container right now: xcsh's `kill` returns only once the daemon
  /// has torn its containers down, so nothing may be left when it has returned.
  func expectNoContainersNow(_ client: XCClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try client.call(ListContainersRequest()).isEmpty, sourceLocation: sourceLocation)
  }

  /// Polls (bounded) until the daemon lists no container: for containers that end on their
  /// own, or with the connection that linked them.
  func expectNoContainers(_ client: XCClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let deadline = Date().addingTimeInterval(30)
    while try !client.call(ListContainersRequest()).isEmpty, Date() < deadline { usleep(20_000) }
    #expect(try client.call(ListContainersRequest()).isEmpty, sourceLocation: sourceLocation)
  }

  @Test func imagesImportTagShowConfigPatchRemoveAndPurge() throws {
    try withDaemon { daemon in
      let archive = try Fixtures.archive()
      #expect(try ok("image import \(archive) app:1 | get image_reference", daemon) == "app:1\n")
      #expect(try ok("image tag app:1 app:2 | get image_reference", daemon) == "app:2\n")
      #expect(try ok("images | get image_reference | sort | to json", daemon) == "[\"app:1\",\"app:2\"]\n")
      #expect(try ok("(image show app:1 | get digest) == (image show app:2 | get digest)", daemon) == "true\n")
      #expect(try ok("image list | where image_reference == 'app:2' | image rm; images | length", daemon) == "1\n")
      #expect(try ok("image ensure app:1 | get action", daemon) == "unchanged\n")
      // The config read, edited and written back; a patch action on top.
      #expect(try ok("image get-config app:1 | upsert vnet true | image set-config app:1 | get image_reference", daemon) == "app:1\n")
      #expect(try ok("image patch app:1 add-env --required DB_URL | get image_reference", daemon) == "app:1\n")
      #expect(try ok("image get-config app:1 | select vnet envs.DB_URL.required | to json", daemon)
        == "{\"vnet\":true,\"envs.DB_URL.required\":true}\n")
      #expect(try ok("purge; images | get image_reference | to json", daemon) == "[\"app:1\"]\n")
      // A missing image: image.not_found at the command (the daemon's typed answer in the
      // help), exit status 1.
      let (status, _, err) = try xcsh("image show nope:1", daemon)
      #expect(status == 1)
      #expect(err.contains("error: no image `nope:1`"), "\(err)")
      #expect(err.contains("the daemon answered: describe_image"), "\(err)")
      let (s2, _, e2) = try xcsh("image patch app:1 frobnicate", daemon)
      #expect(s2 == 1)
      #expect(e2.contains("unknown action `frobnicate`"), "\(e2)")
    }
  }

  @Test func createRunMainWaitAndKillByIdPrefix() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      #expect(try ok("create busybox:latest --name w1 -- sleep 1000 | get status", daemon) == "created\n")
      #expect(try ok("run-main w1 | get status", daemon) == "running\n")
      #expect(try ok("wait w1 --running | get name", daemon) == "w1\n")
      let id = try client.call(ShowContainerRequest(id: "w1")).runningContainer.id
      #expect(try ok("ps | where name == w1 | get 0.id", daemon) == id + "\n")
      // A unique id prefix is enough (xc matches exactly; xcsh resolves it). Quoted: a hex word
      // can read as a number or a size (`5e23b`), and some such literals are out of range.
      _ = try ok("kill '\(id.prefix(5))'", daemon)
      let out = try ok("wait '\(id)' --exit --timeout 30s | get status", daemon)
      #expect(out == "dead\n" || out == "exited\n", "\(out)")
      try expectNoContainers(client)
    }
  }

  @Test func runReplaceAndWaitConditions() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      #expect(try ok("run busybox:latest -d --name r1 -- sleep 1000 | get status", daemon) == "running\n")
      #expect(try ok("run --replace --name r1 busybox:latest -- sleep 1000 | get action", daemon) == "unchanged\n")
      let first = try client.call(ShowContainerRequest(id: "r1")).runningContainer.id
      #expect(try ok("run --replace --name r1 busybox:latest -- sleep 2000 | get action", daemon) == "replaced\n")
      #expect(try client.call(ShowContainerRequest(id: "r1")).runningContainer.id != first)
      #expect(try ok("wait r1 --exec [test -e /etc/passwd] | get name", daemon) == "r1\n")
      #expect(try ok("wait r1 --exec 'test -d /tmp' | get name", daemon) == "r1\n")
      var (status, _, err) = try xcsh("wait r1 --exec 'exit 1' --timeout 600ms --every 100ms", daemon)
      #expect(status == 1)
      #expect(err.contains("timed out after 600ms waiting for `r1` for `/bin/sh -c exit 1` to succeed"), "\(err)")
      (status, _, err) = try xcsh("wait r1 --port 1 --timeout 300ms --every 100ms", daemon)
      #expect(status == 1)
      #expect(err.contains("to accept connections on port 1"), "\(err)")
      (status, _, err) = try xcsh("wait r1", daemon)
      #expect(status == 1)
      #expect(err.contains("`wait` needs a condition"), "\(err)")
      _ = try ok("kill r1", daemon)
      try expectNoContainersNow(client)
      // A container that ends by itself: wait --exit gives its exit code.
      #expect(try ok("let c = (run busybox:latest -d -- sh -c 'exit 3'); wait $c --exit --timeout 30s | get exit_code", daemon) == "3\n")
      try expectNoContainers(client)
    }
  }

  @Test func terminalRunAttachAndLink() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // -t: main on a pty relayed here; its exit status is the command's.
      var (status, out, err) = try xcsh("run -t busybox:latest -- sh -c 'echo on-a-tty; tty; sleep 2; exit 5'", daemon)
      #expect(status == 5, "\(err)")
      #expect(out.contains("on-a-tty"), "\(out)")
      #expect(out.contains("/dev/pts/"), "\(out)")
      // exec -t: the process on its own terminal.
      (status, out, err) = try xcsh(
        "let c = (run -d busybox:latest -- sleep 1000); exec -t $c -- sh -c 'tty; sleep 1; exit 4'", daemon)
      #expect(status == 4, "\(err)")
      #expect(out.contains("/dev/pts/"), "\(out)")
      _ = try ok("ps | kill", daemon)
      try expectNoContainersNow(client)
      // attach to a detached terminal container: its output, until the process ends.
      (status, out, err) = try xcsh(
        "let c = (run -d -t busybox:latest -- sh -c 'echo hello-attach; sleep 3'); attach $c", daemon)
      #expect(status == 0, "\(err)")
      #expect(out.contains("hello-attach"), "\(out)")
      (status, _, err) = try xcsh("let c = (run -d busybox:latest -- sleep 1000); attach $c", daemon)
      #expect(status == 1)
      #expect(err.contains("its main process is not on a terminal"), "\(err)")
      _ = try ok("ps | kill", daemon)
      try expectNoContainersNow(client)
      // link: the container ends when the shell that linked it exits.
      // (It lives while the shell does: later calls still reach it.)
      #expect(try ok("run -d busybox:latest --name l1 -- sleep 1000 | link | get name; ps | length; exec l1 -- echo still-here", daemon)
        == "l1\n1\nstill-here\n")
      try expectNoContainers(client)
      // link --wait returns when the container ends on its own.
      #expect(try ok("run -d busybox:latest -- sleep 1 | link --wait | get status", daemon) != "running\n")
      try expectNoContainers(client)
    }
  }

  @Test func volumesCopyCommitAndBindMounts() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let host = daemon.dir + "/host"
      try FileManager.default.createDirectory(atPath: host + "/out", withIntermediateDirectories: true)
      try "from-the-host\n".write(toFile: host + "/hostfile", atomically: true, encoding: .utf8)
      #expect(try ok("volume create data | get name", daemon) == "data\n")
      #expect(try ok("volume ensure data | get action", daemon) == "unchanged\n")
      #expect(try ok("volumes | get name | to json", daemon) == "[\"data\"]\n")
      #expect(try ok("""
        let c = (run busybox:latest -d --name v1 -v data:/data -- sleep 1000)
        exec $c -- sh -c 'echo persisted > /data/f; echo copied-out > /tmp/o'
        cp \(host)/hostfile v1:/tmp/in/
        print (exec v1 -- cat /tmp/in/hostfile)
        cp v1:/tmp/o \(host)/out
        print (commit $c snap:1 | get image_reference)
        kill $c
        """, daemon) == "from-the-host\nsnap:1\n")
      #expect(try String(contentsOfFile: host + "/out/o", encoding: .utf8) == "copied-out\n")
      try expectNoContainersNow(client)
      // The volume outlives the container; the committed image has the copied file; a host
      // path mounts with its evidence descriptor.
      #expect(try ok("print (run busybox:latest -v data:/data -- cat /data/f)", daemon) == "persisted\n")
      #expect(try ok("print (run snap:1 -- cat /tmp/in/hostfile)", daemon) == "from-the-host\n")
      #expect(try ok("print (run busybox:latest -v \(host):/mnt:ro -- cat /mnt/hostfile)", daemon) == "from-the-host\n")
      try expectNoContainers(client)
      _ = try ok("volume rm data", daemon)
      #expect(try ok("volumes | length", daemon) == "0\n")
    }
  }

  @Test func networksPublishedPortsAndRdrThroughXcsh() throws {
    // Base 217: no other suite uses 10.217/16; the bridge name is unique to this run. The
    // helper checks that no bridge, veth or nftables table of this daemon is left.
    let nt = NetworkTests()
    let net = NetworkTests.TestNet("xs", base: 217)
    try nt.withNetworkDaemon(net) { daemon, client in
      let create = "network create \(net.name) \(net.subnet) --bridge \(net.bridge) --default-router \(net.router)"
      #expect(try ok("\(create) | get name", daemon) == net.name + "\n")
      #expect(try ok("network ensure \(net.name) \(net.subnet) --bridge \(net.bridge) | get action", daemon) == "unchanged\n")
      #expect(try ok("networks | where name == '\(net.name)' | get 0.subnet", daemon) == net.subnet + "\n")
      let (port, port2) = (try nt.freePort(), try nt.freePort())
      let ip = try ok(
        """
        let c = (run busybox:latest -d --vnet --network \(net.name) --name n1 -p \(port):80/tcp -- sh -c 'mkdir -p /www && echo via-xcsh > /www/index.html && exec httpd -f -p 80 -h /www')
        wait $c --port 80 --timeout 30s | get ip
        """, daemon)
      #expect(ip.hasPrefix("10.217.\(net.octet)."), "\(ip)")
      #expect(try nt.httpGet(port: port).contains("via-xcsh"))
      #expect(try ok("rdr add n1 -p \(port2):80/tcp | get 0.source_port.Single", daemon) == "\(port2)\n")
      #expect(try nt.httpGet(port: port2).contains("via-xcsh"))
      #expect(try ok("rdr show-rules | length", daemon) == "2\n")
      // `port`: one record per rule and protocol; `rdr list` shows the host port as a number.
      #expect(try ok("port n1 | sort-by host_port | each {|p| \"$($p.host_port)->$($p.container_port)/$($p.protocol) at $($p.host_address)\"} | to json", daemon)
        == "[\"\(min(port, port2))->80/tcp at 0.0.0.0\",\"\(max(port, port2))->80/tcp at 0.0.0.0\"]\n")
      #expect(try ok("port n1 | get 0.container_address", daemon) == ip)
      #expect(try ok("rdr list n1 | get source_port | sort | to json", daemon) == "[\(min(port, port2)),\(max(port, port2))]\n")
      #expect(try ok("rdr show-rules | get source_port | sort | to json", daemon) == "[\(min(port, port2)),\(max(port, port2))]\n")
      _ = try ok("kill n1", daemon)
      try expectNoContainersNow(client)
      _ = try ok("network rm \(net.name)", daemon)
      #expect(try ok("networks | where name == '\(net.name)' | length", daemon) == "0\n")
    }
  }

  @Test func loginPushPullAndImageEnsureThroughXcsh() throws {
    let registry = try LoopbackRegistry(auth: .htpasswd(user: "alice", password: "s3cret"))
    defer {
      registry.stop()
      #expect(!registry.isRunning, "registry process left running")
    }
    let remote = "\(registry.host)/xcsh/busybox:1"
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      // Without credentials the registry refuses: push fails with the daemon's fault.
      let (status, _, err) = try xcsh("push busybox:latest \(remote) --insecure", daemon)
      #expect(status == 1)
      #expect(err.contains("push of `busybox:latest` to `\(remote)` failed"), "\(err)")
      _ = try ok("login \(registry.host) -u alice -p s3cret --insecure", daemon)
      _ = try ok("push busybox:latest \(remote) --insecure", daemon)
    }
    try withDaemon { daemon in
      _ = try ok("login \(registry.host) -u alice -p s3cret --insecure", daemon)
      #expect(try ok("pull \(remote) pulled:1 | get image_reference", daemon) == remote + "\n")
      #expect(try ok("images | get image_reference | sort | to json", daemon) == "[\"\(remote)\",\"pulled:1\"]\n")
      #expect(try ok("image ensure pulled:1 | get action", daemon) == "unchanged\n")
      #expect(try ok("print (run pulled:1 -- echo pulled-and-running)", daemon) == "pulled-and-running\n")
      // ensure pulls what is missing.
      _ = try ok("image rm \(remote)", daemon)
      #expect(try ok("image ensure \(remote) | get action", daemon) == "created\n")
    }
  }
}
