import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC
import XCSystem

/// End to end: the built `xcd` as a subprocess on a temp socket and state dir, driven with
/// `XCClient` exactly as xcsh (or xc) drives it. Serialized: each test runs containers and the
/// machine has two cores.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct XCDTests {
  /// busybox:latest running `argv`.
  func request(_ argv: [String], name: String? = nil) -> InstantiateRequest {
    InstantiateRequest(
      imageReference: "busybox:latest",
      entryPoint: EntryPoint(entryPoint: argv[0], entryPointArgs: Array(argv.dropFirst())),
      name: name)
  }

  @Test func infoImportAndDescribeImages() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      let info = try client.call(InfoRequest())
      #expect(info.config.socketPath == daemon.socket)

      let diffID = try Fixtures.importImage(client)
      #expect(diffID.hasPrefix("sha256:") && diffID.count == 71, "\(diffID)")

      let all = try client.call(ListAllImagesRequest()).manifests
      #expect(all.map(\.imageReference) == ["busybox:latest"])
      #expect(all.first?.manifest.rootfs.diffIds == [diffID])

      let described = try client.call(DescribeImageRequest(imageReference: "busybox:latest"))
      #expect(described.imageReference == "busybox:latest")
      #expect(described.digest == all.first?.digest)
      #expect(!described.chainId.isEmpty && described.datasetId == described.chainId)
      #expect(described.jailImage.config?.cmd == ["/bin/sh"])

      let byName = try client.call(DescribeImagesRequest(imageName: "busybox"))
      #expect(byName.map(\.imageReference) == ["busybox:latest"])

      // xc's exact answer for an unknown reference.
      let missing = try daemonError {
        try client.call(DescribeImageRequest(imageReference: "nope:1"))
      }
      #expect(missing == .typed("ImageReferenceNotFound"))

      // A second tag through replace_meta, then remove_image and purge.
      var meta = JailConfig(secureLevel: 0)
      meta.entryPoints["main"] = ExecSpec(exec: "/bin/echo", args: ["meta"])
      meta.defaultEntryPoint = "main"
      let replaced = try client.call(
        ReplaceMetaRequest(imageReference: "busybox:latest", config: meta))
      #expect(replaced.config?.xcExtension?.defaultEntryPoint == "main")
      _ = try client.call(RemoveImageRequest(imageReference: "busybox:latest"))
      #expect(try client.call(ListAllImagesRequest()).manifests.isEmpty)
      _ = try client.call(PurgeRequest())
    }
  }

  @Test func unknownImageAndLaterMethodsAnswerClearly() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      let unknown = try daemonError {
        try client.call(request(["/bin/true"]).with(image: "nosuch:1"))
      }
      #expect(unknown.errno == 2)
      #expect(unknown.value.text.contains("image not found: nosuch:1"), "\(unknown)")

      // FreeBSD-only features are refused by name, not ignored.
      var datasets = request(["/bin/true"])
      datasets.jailDatasets = ["zroot/data"]
      let unsupported = try daemonError { try client.call(datasets) }
      #expect(unsupported.errno == 45)
      #expect(unsupported.value.text == "unsupported on Linux: instantiate: jail_datasets (ZFS datasets delegated to a jail)", "\(unsupported)")

      // Every method is served: registered (not "ipc method … not found") and, where an empty
      // object decodes, answered by its handler rather than errno 78.
      for type in XCMethods.all + XCMethods.extensions {
        let body = Array(#"{"method":"\#(type.method)","value":{}}"#.utf8)
        let frame = try client.exchange(method: type.method, body: body)
        if case .failure(let e) = try Envelope.decodeResponse(JSONValue.self, from: frame.body) {
          #expect(e.errno != 78, "\(type.method): \(e.value.text)")
          #expect(!e.value.text.contains("ipc method"), "\(type.method): \(e.value.text)")
        }
      }
      let channel = try daemonError { try client.call(CreateChannelRequest(socketPath: "/nonexistent-dir/x.sock")) }
      #expect(channel.errno == 22)
      #expect(channel.value.text.contains("socket_path's directory /nonexistent-dir does not exist"), "\(channel)")
      let logs = try daemonError { try client.call(LogsRequest(name: "x", process: "main")) }
      #expect(logs.errno == 2 && logs.value.text.contains("no such container: x"), "\(logs)")

      let network = try daemonError { try client.call(RemoveNetworkRequest(name: "nonet")) }
      #expect(network.errno == 2 && network.value.text.contains("no such network: nonet"), "\(network)")

      let container = try daemonError { try client.call(KillContainerRequest(name: "ghost")) }
      #expect(container.errno == 2 && container.value.text.contains("ghost"), "\(container)")

      // Still serving, on the same connection and a new one.
      #expect(try client.call(InfoRequest()).config.socketPath == daemon.socket)
      #expect(try daemon.client().call(ListContainersRequest()).isEmpty)
    }
  }

  @Test func echoHelloAndExitCodes() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)

      let out = try TestPipe()
      let started = try TestEventFD()
      let exited = try TestEventFD()
      var r = request(["/bin/echo", "hello"])
      r.stdout = out.writeRef
      r.mainStartedNotify = started.ref
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id
      #expect(id.count == 12)
      #expect(try out.readAll() == "hello\n")
      #expect(try started.next() == 1)
      #expect(try exited.exitStatus().exitCode == 0)

      let exited3 = try TestEventFD()
      var three = request(["/bin/sh", "-c", "exit 3"])
      three.mainExitedFd = exited3.ref
      _ = try client.call(three)
      #expect(try exited3.exitStatus().exitCode == 3)
    }
  }

  @Test func execKillAndListContainers() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)

      let exited = try TestEventFD()
      var r = request(["/bin/sleep", "1000"], name: "sleeper")
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id

      let listed = try client.call(ListContainersRequest())
      #expect(listed.map(\.id) == [id])
      #expect(listed.first?.name == "sleeper")
      let shown = try client.call(ShowContainerRequest(id: "sleeper"))
      #expect(!shown.containerDead)
      #expect(shown.runningContainer.id == id && shown.runningContainer.jid > 0)
      #expect(shown.runningContainer.mainProto?.arg0 == "/bin/sleep")
      let fresh = try client.call(ShowContainerNocacheRequest(id: id))
      #expect(fresh.runningContainer.name == "sleeper")

      let out = try TestPipe()
      let done = try TestEventFD()
      let spawned = try client.call(
        ExecRequest(
          name: "sleeper", arg0: "/bin/sh", args: ["-c", "echo from exec; exit 7"],
          envs: ["PATH": "/bin"], stdout: out.writeRef, notify: done.ref))
      #expect(spawned.pid > 0)
      #expect(try out.readAll() == "from exec\n")
      #expect(try done.exitStatus().exitCode == 7)

      let missing = try daemonError {
        try client.call(ExecRequest(name: "sleeper", arg0: "/no/such/program"))
      }
      #expect(missing.errno != 0, "\(missing)")

      _ = try client.call(KillContainerRequest(name: "sleeper"))
      let status = try exited.exitStatus()
      #expect(status.terminationSignal == SIGTERM, "\(status)")
    }
  }

  /// `use_tty`: main runs on a pty served on the socket named in
  /// `processes.main.spawn_info.terminal_socket`; output before attaching is replayed, input
  /// reaches the process, and the socket goes away with the container.
  @Test func ttyMainIsServedOnItsTerminalSocket() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let started = try TestEventFD()
      let exited = try TestEventFD()
      var r = request(["/bin/sh", "-c", "echo hi; read x; echo got $x"], name: "tty")
      r.useTty = true
      r.mainStartedNotify = started.ref
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id
      #expect(try started.next() == 1)
      let shown = try client.call(ShowContainerNocacheRequest(id: id))
      let path = try #require(shown.runningContainer.processes["main"]?.spawnInfo?.terminalSocket)
      #expect(path.hasSuffix("/xc.\(id).main"), "\(path)")

      let terminal = try TerminalClient(path: path)
      try terminal.read(until: "hi")
      try terminal.write("yes\n")
      let text = try terminal.read(until: "got yes")
      #expect(text.hasPrefix("hi\r\n"), "\(text.debugDescription)")  // a tty: ONLCR
      try terminal.readToEOF()
      #expect(try exited.exitStatus().exitCode == 0)
      // Main's exit is reported the moment main exits; the container (and its terminal socket)
      // is torn down right after, so wait for that, bounded.
      let deadline = Date().addingTimeInterval(10)
      while FileManager.default.fileExists(atPath: path), Date() < deadline { usleep(10_000) }
      #expect(!FileManager.default.fileExists(atPath: path), "terminal socket left")
      #expect(throws: Errno.self) { try TerminalClient(path: path) }
    }
  }

  /// `exec` with `use_tty`: the answer names the exec's terminal socket; it relays both ways
  /// and goes away when the process exits.
  @Test func ttyExecIsServedOnItsTerminalSocket() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      var r = request(["/bin/sleep", "1000"], name: "host")
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id

      let done = try TestEventFD()
      let spawned = try client.call(
        ExecRequest(
          name: "host", arg0: "/bin/sh", args: ["-c", "echo in; read x; echo got $x; exit 5"],
          envs: ["PATH": "/bin"], notify: done.ref, useTty: true))
      let path = try #require(spawned.terminalSocket)
      #expect(path.hasPrefix("/") && path.contains("/xc.\(id).") && !path.hasSuffix(".main"), "\(path)")
      let shown = try client.call(ShowContainerRequest(id: id)).runningContainer
      #expect(shown.processes.values.contains { $0.spawnInfo?.terminalSocket == path })

      let terminal = try TerminalClient(path: path)
      try terminal.read(until: "in")
      try terminal.write("ok\n")
      try terminal.read(until: "got ok")
      try terminal.readToEOF()
      #expect(try done.exitStatus().exitCode == 5)
      let deadline = Date().addingTimeInterval(10)
      while FileManager.default.fileExists(atPath: path), Date() < deadline { usleep(10_000) }
      #expect(!FileManager.default.fileExists(atPath: path), "terminal socket left")

      _ = try client.call(KillContainerRequest(name: "host"))
      #expect(try exited.exitStatus().terminationSignal == SIGTERM)
    }
  }

  @Test func createOnlyThenRunMain() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let out = try TestPipe()
      let exited = try TestEventFD()
      var r = request(["/bin/echo", "later"], name: "later")
      r.createOnly = true
      r.stdout = out.writeRef
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id
      #expect(try client.call(ShowContainerRequest(id: "later")).runningContainer.mainNorun)
      let notify = try TestEventFD()
      #expect(try client.call(RunMainRequest(name: "later", notify: notify.ref)).id == id)
      #expect(try notify.next() == 1)
      #expect(try out.readAll() == "later\n")
      #expect(try exited.exitStatus().exitCode == 0)
    }
  }

  @Test func requiredEnvironmentIsChecked() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client, reference: "greeter:1", arguments: ["--require-env", "WHO"])
      let e = try daemonError {
        try client.call(InstantiateRequest(imageReference: "greeter:1", entryPoint: EntryPoint()))
      }
      #expect(e.errno == 2 && e.value.text.contains("WHO"), "\(e)")

      let out = try TestPipe()
      _ = try client.call(
        InstantiateRequest(
          imageReference: "greeter:1", envs: ["WHO": "world"], entryPoint: EntryPoint(),
          stdout: out.writeRef))
      #expect(try out.readAll() == "hello world\n")
    }
  }

  @Test func linkStopsTheContainerWhenTheConnectionCloses() throws {
    try withDaemon { daemon in
      let setup = try daemon.client()
      try Fixtures.importImage(setup)
      let exited = try TestEventFD()
      var r = request(["/bin/sleep", "1000"], name: "linked")
      r.mainExitedFd = exited.ref
      _ = try setup.call(r)

      // The descriptor is a pipe here: the daemon closes it when the container ends.
      let token = try TestPipe()
      do {
        let linker = try daemon.client()
        _ = try linker.call(LinkRequest(name: "linked", fd: token.writeRef))
        token.closeWrite()
        linker.close()
      }
      #expect(try exited.exitStatus().terminationSignal == SIGTERM)
      #expect(try token.readAll() == "")  // EOF: the daemon released the linked descriptor
    }
  }

  @Test func badRequestsAnswerActionableErrors() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)

      let integer = try daemonError { try client.call(request(["/bin/true"], name: "1234")) }
      #expect(integer.errno == 22, "\(integer)")
      let dotted = try daemonError { try client.call(request(["/bin/true"], name: "a.b")) }
      #expect(dotted.errno == 22, "\(dotted)")

      let noProgram = try daemonError { try client.call(request(["/no/such/program"])) }
      #expect(
        noProgram.errno != 0 && noProgram.value.text.contains("/no/such/program"), "\(noProgram)")

      _ = try client.call(request(["/bin/sleep", "1000"], name: "taken"))
      let taken = try daemonError { try client.call(request(["/bin/true"], name: "taken")) }
      #expect(taken.errno != 0 && taken.value.text.contains("taken"), "\(taken)")
      let exec = try daemonError {
        try client.call(ExecRequest(name: "taken", arg0: "/no/such/exe"))
      }
      #expect(exec.errno != 0 && exec.value.text.contains("/no/such/exe"), "\(exec)")

      // Not an archive at all.
      let junk = daemon.dir + "/junk"
      try Data("this is not a tar".utf8).write(to: URL(fileURLWithPath: junk))
      let fd = try FileDescriptor.open(junk, .readOnly)
      defer { try? fd.close() }
      let bad = try daemonError {
        try client.call(
          FdImportRequest(
            fd: FDRef(fd), config: JailConfig(secureLevel: 0), imageReference: "junk:1"))
      }
      #expect(bad.errno == 22, "\(bad)")
      #expect(
        try client.call(ListAllImagesRequest()).manifests.map(\.imageReference) == [
          "busybox:latest"
        ])
      _ = try client.call(KillContainerRequest(name: "taken"))
    }
  }

  /// xc's own `fd_import`: one layer tar plus a JailConfig whose default entry point runs.
  @Test func fdImportOfASingleLayerWithConfig() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      let layer = try makeLayer(in: daemon.dir)
      var config = JailConfig(secureLevel: 0)
      config.entryPoints["main"] = ExecSpec(
        exec: "/bin/sh", args: ["-c", "echo layered $GREETING"])
      config.envs["GREETING"] = EnvSpec(required: false, defaultValue: "hi")
      config.defaultEntryPoint = "main"
      config.linux = true
      let fd = try FileDescriptor.open(layer, .readOnly)
      defer { try? fd.close() }
      let diffID = try client.call(
        FdImportRequest(fd: FDRef(fd), config: config, imageReference: "layered:1"))
      let described = try client.call(DescribeImageRequest(imageReference: "layered:1"))
      #expect(described.jailImage.rootfs.diffIds == [diffID])
      #expect(described.jailImage.config?.xcExtension?.defaultEntryPoint == "main")

      let out = try TestPipe()
      _ = try client.call(
        InstantiateRequest(
          imageReference: "layered:1", entryPoint: EntryPoint(), stdout: out.writeRef))
      #expect(try out.readAll() == "layered hi\n")
    }
  }

  /// A gzip layer tar holding busybox as /bin/busybox and /bin/sh.
  func makeLayer(in dir: String) throws -> String {
    let root = dir + "/layer-root"
    try FileManager.default.createDirectory(
      atPath: root + "/bin", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
    try FileManager.default.createSymbolicLink(
      atPath: root + "/bin/sh", withDestinationPath: "busybox")
    let layer = dir + "/layer.tar.gz"
    let tar = Process()
    tar.executableURL = URL(fileURLWithPath: "/bin/tar")
    tar.arguments = ["-czf", layer, "-C", root, "."]
    try tar.run()
    tar.waitUntilExit()
    guard tar.terminationStatus == 0 else { throw TestFailure("tar failed") }
    return layer
  }

  /// A handler blocked in the engine (an fd_import reading a pipe nobody has written yet)
  /// holds only its own connection: others are answered meanwhile.
  @Test func aBlockedCallDoesNotStarveOtherConnections() throws {
    try withDaemon { daemon in
      let layer = try Data(contentsOf: URL(fileURLWithPath: try makeLayer(in: daemon.dir)))
      let pipe = try TestPipe()
      let slow = try daemon.client()
      let done = DispatchSemaphore(value: 0)
      nonisolated(unsafe) var answer: Result<String, any Error>?
      let readEnd = pipe.read
      let t = Thread {
        answer = Result {
          try slow.call(
            FdImportRequest(
              fd: FDRef(readEnd), config: JailConfig(secureLevel: 0), imageReference: "piped:1"))
        }
        done.signal()
      }
      t.start()
      // The import is waiting for data; other connections are served.
      for _ in 0..<3 {
        #expect(try daemon.client().call(InfoRequest()).config.socketPath == daemon.socket)
        #expect(try daemon.client().call(ListContainersRequest()).isEmpty)
      }
      #expect(answer == nil)
      try layer.withUnsafeBytes { _ = try pipe.write!.writeAll($0) }
      pipe.closeWrite()
      #expect(done.wait(timeout: .now() + 60) == .success)
      let diffID = try #require(answer).get()
      #expect(diffID.hasPrefix("sha256:"))
      #expect(
        try daemon.client().call(ListAllImagesRequest()).manifests.map(\.imageReference) == [
          "piped:1"
        ])
    }
  }

  @Test func configFileIsReadAndBadOnesRefused() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    let conf = daemon.dir + "/xc.conf"
    try "logs_dir: /var/log/xcd-test\nstop_grace_seconds: 1\nbogus_key: 1\n".write(
      toFile: conf, atomically: true, encoding: .utf8)
    try daemon.start(extraArguments: ["--config", conf])
    #expect(try daemon.client().call(InfoRequest()).config.logsDir == "/var/log/xcd-test")
    try daemon.stop()
    #expect(daemon.log.contains("unknown key bogus_key"))

    try "runc: /no/such/runc\n".write(toFile: conf, atomically: true, encoding: .utf8)
    let noRunc = try daemon.runExpectingFailure(extraArguments: ["--config", conf])
    #expect(noRunc.status == 1 && noRunc.stderr.contains("/no/such/runc"), "\(noRunc.stderr)")

    try "stop_grace_seconds: soon\n".write(toFile: conf, atomically: true, encoding: .utf8)
    let bad = try daemon.runExpectingFailure(extraArguments: ["--config", conf])
    #expect(
      bad.status == 1 && bad.stderr.contains("`stop_grace_seconds` must be an integer"),
      "\(bad.stderr)")
    #expect(!FileManager.default.fileExists(atPath: daemon.socket))
    daemon.expectClean()
  }

  @Test func restartKeepsImagesRefusesSecondDaemonAndStopsCleanly() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    try daemon.start()
    try Fixtures.importImage(try daemon.client())

    // Another daemon on the same socket refuses to start, and says why.
    let second = try daemon.runExpectingFailure()
    #expect(second.status == 1)
    #expect(
      second.stderr.contains("another xcd is already serving \(daemon.socket)"), "\(second.stderr)")
    #expect(try daemon.client().call(InfoRequest()).config.socketPath == daemon.socket)
    // So does one on another socket but the same state directory.
    let sameState = try daemon.runExpectingFailure(extraArguments: [
      "--socket", daemon.dir + "/other.sock",
    ])
    #expect(sameState.status == 1)
    #expect(sameState.stderr.contains("is in use by another engine"), "\(sameState.stderr)")
    #expect(!FileManager.default.fileExists(atPath: daemon.dir + "/other.sock"))

    // A running container is stopped and cleaned by SIGTERM.
    _ = try daemon.client().call(request(["/bin/sleep", "1000"]))
    try daemon.stop()
    daemon.expectClean()

    // A stale socket file is replaced.
    let stale = try Socket.listen(onUnixPath: daemon.socket)
    try stale.close()
    #expect(FileManager.default.fileExists(atPath: daemon.socket))

    try daemon.start()
    var st = stat()
    #expect(lstat(daemon.socket, &st) == 0 && st.st_mode & 0o777 == 0o660)
    let images = try daemon.client().call(ListAllImagesRequest()).manifests
    #expect(images.map(\.imageReference) == ["busybox:latest"])
    #expect(try daemon.client().call(ListContainersRequest()).isEmpty)
    // SIGINT (Ctrl-C in a terminal) stops it the same way, with a container running.
    _ = try daemon.client().call(request(["/bin/sleep", "1000"]))
    try daemon.stop(signal: SIGINT)
    daemon.expectClean()
  }
}

extension InstantiateRequest {
  func with(image: String) -> InstantiateRequest {
    var r = self
    r.imageReference = image
    return r
  }
}
