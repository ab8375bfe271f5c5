import Foundation
import Glibc
import Testing
import XCEditor
import XCIPC
import XCObjects
import XCShell

/// xcsh's object commands against the real xcd: typed objects in pipes, not text.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct XCShellObjectTests {
  /// The `xcsh` built next to `xcd`.
  static var xcsh: String { Xcsh.binary }

  /// Runs `xcsh --socket SOCKET -c CODE` and returns (status, stdout, stderr).
  func xcsh(_ code: String, socket: String) throws -> (Int32, String, String) {
    let r = try Xcsh.run(["--socket", socket, "-c", code])
    return (r.status, r.stdout, r.stderr)
  }

  @Test func psImagesInfoAndKillThroughPipes() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      var r = InstantiateRequest(
        imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]),
        name: "web-1")
      r.mainExitedFd = exited.ref
      let id = try client.call(r).id

      var (status, out, err) = try xcsh("ps | get name | to json", socket: daemon.socket)
      #expect(status == 0, "\(err)")
      #expect(out == "[\"web-1\"]\n")
      (status, out, err) = try xcsh("ps | first | describe; ps | first | get id", socket: daemon.socket)
      #expect(out == "container\n\(id)\n", "\(err)")
      (status, out, err) = try xcsh("images | get image_reference | to json", socket: daemon.socket)
      #expect(out == "[\"busybox:latest\"]\n", "\(err)")
      (status, out, err) = try xcsh("info | get config.socket_path", socket: daemon.socket)
      #expect(out == daemon.socket + "\n", "\(err)")

      // Objects from the pipe: the container is stopped by the daemon.
      (status, out, err) = try xcsh("ps | where name == web-1 | kill", socket: daemon.socket)
      #expect(status == 0, "\(err)")
      #expect(try exited.exitStatus().terminationSignal == SIGTERM)

      // A container that does not exist: container.not_found, located at the command.
      (status, out, err) = try xcsh("kill nope", socket: daemon.socket)
      #expect(status == 1)
      #expect(err.contains("error: no container `nope`"), "\(err)")
      #expect(err.contains("--> <command>:1:1"), "\(err)")
    }
  }

  /// The daemon dies between two calls of a script (issue 18): the error says it went away,
  /// during which call, and that a read changed nothing — not "the peer closed the connection".
  @Test func aDaemonThatDiesMidScriptIsNamed() throws {
    try withDaemon { daemon in
      let p = Process()
      p.executableURL = URL(fileURLWithPath: Self.xcsh)
      // `head -n 1` waits for the test's line: the daemon is killed in between.
      p.arguments = ["--socket", daemon.socket, "-c", "print (ps | length); ^head -n 1 | ignore; ps"]
      let out = Pipe()
      let err = Pipe()
      let input = Pipe()
      p.standardOutput = out
      p.standardError = err
      p.standardInput = input
      try p.run()
      var first = Data()
      while !first.contains(UInt8(ascii: "\n")) {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        first.append(chunk)
      }
      #expect(String(decoding: first, as: UTF8.self) == "0\n")
      try daemon.crash()
      input.fileHandleForWriting.write(Data("go\n".utf8))
      try? input.fileHandleForWriting.close()
      let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(p.terminationStatus == 1)
      #expect(e.contains("error: the xc daemon at \(daemon.socket) went away during `list_containers`"), "\(e)")
      #expect(e.contains("`list_containers` only reads, so nothing was changed"), "\(e)")
      #expect(!e.contains("peer closed"), "\(e)")
    }
  }

  /// Against the real xcd (issue 18): one not-found vocabulary whatever the daemon's answer
  /// (describe_image's typed variant, ENOENT from the others, remove_image's silent success),
  /// and clean-up commands on an empty pipe do nothing.
  @Test func missingObjectsShareOneVocabularyAndEmptyCleanUpIsANoOp() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let script = """
        try { image show nosuch:1 } catch e { print $e.code $e.message }
        try { image rm nosuch:1 } catch e { print $e.code $e.message }
        try { kill nosuch } catch e { print $e.code $e.message }
        try { show nosuch } catch e { print $e.code $e.message }
        try { network rm nosuch } catch e { print $e.code $e.message }
        try { volume rm nosuch } catch e { print $e.code $e.message }
        try { wait nosuch --exit } catch e { print $e.code $e.message }
        ps | where name == nope | kill
        [] | network rm
        [] | volume rm
        images | where image_reference == nope | image rm
        print done
        """
      let (status, out, err) = try xcsh(script, socket: daemon.socket)
      #expect(status == 0, "\(err)")
      #expect(
        out == """
          image.not_found
          no image `nosuch:1`
          image.not_found
          no image `nosuch:1`
          container.not_found
          no container `nosuch`
          container.not_found
          no container `nosuch`
          network.not_found
          no network `nosuch`
          volume.not_found
          no volume `nosuch`
          container.not_found
          no container `nosuch`
          done

          """, "\(err)")
      #expect(try daemon.client().call(ListAllImagesRequest()).manifests.map(\.imageReference) == ["busybox:latest"])
    }
  }

  /// Tab after `kill web` offers the live container's name, fetched from the daemon.
  @Test func completionOffersLiveContainerNames() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try TestEventFD()
      var r = InstantiateRequest(
        imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]),
        name: "web-1")
      r.mainExitedFd = exited.ref
      _ = try client.call(r)

      let session = DaemonSession(socketPath: daemon.socket)
      let registry = Builtins.registry()
      for c in ObjectCommands.all(session) { registry.register(c) }
      let shell = Shell(options: ShellOptions(), registry: registry)
      let completer = Completer(shell: shell, objectNames: { session.names(of: $0) })
      #expect(completer.complete("kill web").candidates.map(\.text) == ["web-1"])
      #expect(completer.complete("ps | kill w").candidates.map(\.text) == ["web-1"])
      #expect(session.names(of: .image) == ["busybox:latest"])

      _ = try client.call(KillContainerRequest(name: "web-1"))
      _ = try exited.exitStatus()
    }
  }

  /// `run` in the foreground streams output and returns the exit status; `-d` returns an object.
  @Test func runForegroundCapturedAndDetached() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var (status, out, err) = try xcsh("run busybox:latest -- echo hello", socket: daemon.socket)
      #expect(status == 0, "\(err)")
      #expect(out == "hello\n")
      (status, out, err) = try xcsh("print ((run busybox:latest -- echo hi) | str upcase)", socket: daemon.socket)
      #expect(out == "HI\n", "\(err)")
      (status, out, err) = try xcsh(
        "run busybox:latest -e GREETING=hey -- sh -c 'echo $GREETING; exit 3'", socket: daemon.socket)
      #expect(status == 3, "\(err)")
      #expect(out == "hey\n")
      #expect(err.contains("exited with status 3"), "\(err)")
      (status, out, err) = try xcsh(
        """
        let c = (run busybox:latest -d --name bg -- sleep 1000)
        print $c.name ($c | describe)
        exec bg -- echo from-exec
        print ((exec $c -e X=1 -- sh -c 'echo $X') | into int)
        print (show bg | get name)
        let r = try { exec bg -- sh -c 'exit 4' } catch e { $e.exit_code }
        print $r
        $c | kill
        """,
        socket: daemon.socket)
      #expect(status == 0, "\(err)")
      #expect(out == "bg\ncontainer\nfrom-exec\n1\nbg\n4\n")
      // xcsh's kill returns only once the daemon has torn the container down.
      #expect(try client.call(ListContainersRequest()).isEmpty)
    }
  }

  @Test func noDaemonIsAClearError() throws {
    let dir = NSTemporaryDirectory() + "xcsh-nodaemon-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (status, _, err) = try xcsh("ps", socket: dir + "/none.sock")
    #expect(status == 1)
    #expect(err.contains("error: cannot reach the xc daemon at \(dir)/none.sock"), "\(err)")
    #expect(err.contains("help: start xcd"), "\(err)")
  }
}
