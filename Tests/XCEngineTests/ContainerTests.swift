import Foundation
import Glibc
import SystemPackage
import Testing
import XCSystem

@testable import XCEngine

@Suite("Containers", .enabled(if: runsAsRoot, "needs root (mounts, runc)"))
struct ContainerTests {
  @Test func echoHelloThroughAPipeWithNotifications() async throws {
    try await withEngine { engine, state in
      let out = try TestPipe()
      let started = try TestEventFD()
      let exited = try TestEventFD()
      var spec = ContainerSpec.busybox(["echo", "hello"], stdout: out.write)
      spec.main_started_notify = started.fd
      spec.main_exited_fd = exited.fd
      let c = try engine.createContainer(spec)
      #expect(c.id.count == 12 && c.id.allSatisfy(\.isHexDigit))
      #expect(c.name == "xc-\(c.id)")
      #expect(try started.read() == 1)
      #expect(try out.readAll() == "hello\n")
      #expect(try exited.read() == ProcessNotification.exitFlag | 0)
      let done = try await engine.waitExit(c.id)
      #expect(done.status == .exited)
      #expect(done.exit_status == 0)
      #expect(done.started != nil && done.finished_at != nil)
      #expect(done.main_proto?.arg0 == "echo")
      let main = try #require(done.processes["main"])
      #expect(main.exit_code == 0 && main.started != nil && main.exited != nil)
      // Ended containers are found by exact id only, and leave nothing behind.
      #expect(try engine.container(c.id).dead)
      #expect(try engine.containers().isEmpty)
      #expect(!FileManager.default.fileExists(atPath: state.path + "/containers/" + c.id))
      state.expectClean()
    }
  }

  /// xc's semantics: main's exit is reported at once, but the container lives until every
  /// process in it has exited.
  @Test func containerLivesUntilAllItsProcessesExit() async throws {
    try await withEngine { engine, _ in
      try #require(engine.initBinary != nil, "xc-init must be built beside the tests")
      let gate = try TestPipe()
      let out = try TestPipe()
      let exited = try TestEventFD()
      // The background child keeps stdin as fd 3 (sh gives background jobs /dev/null).
      var spec = ContainerSpec.busybox(
        ["sh", "-c", "exec 3<&0; (read line <&3; echo child done) & echo main done"], stdout: out.write)
      spec.stdin = gate.read
      spec.main_exited_fd = exited.fd
      let c = try engine.createContainer(spec)
      #expect(ProcessNotification.decodeExit(try exited.read())?.shellExitCode == 0)
      let alive = try engine.container(c.id)
      #expect(!alive.dead && alive.record.status == .running)
      #expect(alive.record.processes["main"]?.exit_code == 0)
      let probe = try TestPipe()
      var exec = ExecSpec(arg0: "echo", args: ["still up"])
      exec.stdout = probe.write
      _ = try engine.exec(c.id, exec)
      #expect(try probe.readAll() == "still up\n")
      _ = try gate.write!.writeAll(Array("go\n".utf8))
      gate.closeWrite()
      #expect(try out.readAll() == "main done\nchild done\n")
      let done = try await engine.waitExit(c.id)
      #expect(done.exit_status == 0)  // main's status, not the last process's
    }
  }

  /// Without xc-init, main is PID 1: the same API works, and the container ends with main.
  @Test func mainAsPID1WithoutInit() async throws {
    let state = try TempState()
    defer { state.remove() }
    let engine = try Engine(stateDir: state.path, initBinary: nil)
    #expect(engine.initBinary == nil)
    try importArchive(engine, try Fixtures.archive(), reference: "busybox:latest")
    let out = try TestPipe()
    let exited = try TestEventFD()
    var spec = ContainerSpec.busybox(["sh", "-c", "echo pid $$; exit 3"], stdout: out.write)
    spec.main_exited_fd = exited.fd
    let c = try engine.createContainer(spec)
    #expect(try out.readAll() == "pid 1\n")
    #expect(ProcessNotification.decodeExit(try exited.read())?.shellExitCode == 3)
    #expect(try await engine.waitExit(c.id).exitCode == 3)
    let err = #expect(throws: EngineError.self) { try engine.createContainer(.busybox(["/no/such/program"])) }
    #expect(err?.code == .runtimeFailed)
    engine.shutdown()
    state.expectClean()
  }

  @Test(arguments: [0, 1, 3, 255])
  func exitCodes(_ code: Int32) async throws {
    try await withEngine { engine, _ in
      let exited = try TestEventFD()
      var spec = ContainerSpec.busybox(["sh", "-c", "exit \(code)"])
      spec.main_exited_fd = exited.fd
      let c = try engine.createContainer(spec)
      let value = try exited.read()
      #expect(value & ProcessNotification.exitFlag != 0)
      #expect(ProcessNotification.decodeExit(value)?.shellExitCode == code)
      let done = try await engine.waitExit(c.id)
      #expect(done.exitCode == code)
      #expect(done.exit_status == code << 8)  // raw wait status, as xc reports it
    }
  }

  @Test func defaultEntryPointEnvHostnameUserAndWorkdir() async throws {
    try await withEngine { engine, _ in
      let out = try TestPipe()
      var spec = ContainerSpec.busybox(
        ["sh", "-c", "echo $FOO $(hostname) $(id -u):$(id -g) $HOME $(pwd) $PATH"], stdout: out.write)
      spec.name = "web-1"
      spec.envs = ["FOO": "bar"]
      spec.user = "user"
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "bar web-1 1000:1000 /home/user / /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)

      // No entry point given: the image's Cmd (/bin/sh) runs, reading the client's stdin.
      let input = try TestPipe()
      let out2 = try TestPipe()
      var spec2 = ContainerSpec(image_reference: "busybox:latest")
      spec2.stdin = input.read
      spec2.stdout = out2.write
      spec2.hostname = "box"
      let c2 = try engine.createContainer(spec2)
      _ = try input.write!.writeAll(Array("hostname; exit 4\n".utf8))
      input.closeWrite()
      #expect(try out2.readAll() == "box\n")
      #expect(try await engine.waitExit(c2.id).exitCode == 4)
    }
  }

  @Test func requiredEnvironment() async throws {
    try await withEngine(image: ["--require-env", "WHO", "--name", "greet:1"], reference: "greet:1") { engine, _ in
      var spec = ContainerSpec(image_reference: "greet:1")
      let err = #expect(throws: EngineError.self) { try engine.createContainer(spec) }
      #expect(err?.code == .missingEnv)
      #expect(err?.message == "missing required environment variable: WHO - what to greet")
      let out = try TestPipe()
      spec.envs = ["WHO": "world"]
      spec.stdout = out.write
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "hello world\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
    }
  }

  @Test func copiesAreWrittenIntoTheRootfs() async throws {
    try await withEngine { engine, state in
      let file = state.path + "/greeting"
      try "hi from the host\n".write(toFile: file, atomically: true, encoding: .utf8)
      let source = try FileDescriptor.open(file, .readOnly)
      defer { try? source.close() }
      let out = try TestPipe()
      var spec = ContainerSpec.busybox(["cat", "/etc/xc/greeting"], stdout: out.write)
      spec.copies = [.init(source: source, destination: "/etc/xc/greeting")]
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "hi from the host\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
      // The copy went to the container's upper dir, not the image.
      let image = try engine.describeImage("busybox:latest")
      #expect(!FileManager.default.fileExists(atPath: state.path + "/images/\(image.chain_id.dropFirst(7))/etc/xc"))
    }
  }

  @Test func badUsersAndCopyTargetsAreRefused() async throws {
    try await withEngine { engine, state in
      var spec = ContainerSpec.busybox(["true"])
      spec.user = "nosuchuser"
      #expect((#expect(throws: EngineError.self) { try engine.createContainer(spec) })?.code == .noSuchUser)
      // /bin/sh is a symlink in the image: a copy may not be written through it.
      let file = state.path + "/payload"
      try "x".write(toFile: file, atomically: true, encoding: .utf8)
      let source = try FileDescriptor.open(file, .readOnly)
      defer { try? source.close() }
      var copy = ContainerSpec.busybox(["true"])
      copy.copies = [.init(source: source, destination: "/bin/sh/evil")]
      #expect((#expect(throws: EngineError.self) { try engine.createContainer(copy) })?.code == .badRequest)
      copy.copies = [.init(source: source, destination: "relative/path")]
      #expect((#expect(throws: EngineError.self) { try engine.createContainer(copy) })?.code == .badRequest)
      #expect(try engine.containers().isEmpty)
      state.expectClean()
    }
  }

  @Test func purgeKeepsWhatRunningContainersUse() async throws {
    try await withEngine { engine, state in
      let stdin = try TestPipe()
      var spec = ContainerSpec.busybox(["sh", "-c", "read line; echo still here"])
      spec.stdin = stdin.read
      let out = try TestPipe()
      spec.stdout = out.write
      let c = try engine.createContainer(spec)
      let image = try engine.describeImage("busybox:latest")
      try engine.removeImage("busybox:latest")
      try engine.purge()
      let tree = state.path + "/images/" + image.chain_id.dropFirst(7)
      #expect(FileManager.default.fileExists(atPath: tree + "/bin/busybox"))
      _ = try stdin.write!.writeAll(Array("go\n".utf8))
      #expect(try out.readAll() == "still here\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
      try engine.purge()
      #expect(!FileManager.default.fileExists(atPath: tree))
    }
  }

  @Test func extraLayersAreAppliedOverTheRoot() async throws {
    try await withEngine { engine, state in
      var layer = TarWriter()
      layer.add("etc/extra/", .directory, mode: 0o755)
      layer.add("etc/extra/note", content: "from an extra layer\n")
      layer.add("bin/.wh.ls")  // hides the image's /bin/ls in this container only
      let path = state.path + "/extra.tar"
      try Data(layer.finish()).write(to: URL(fileURLWithPath: path))
      let gz = try Fixtures.run(["/bin/gzip", "-k", path])
      #expect(gz.status == 0)
      let fd = try FileDescriptor.open(path + ".gz", .readOnly)
      defer { try? fd.close() }
      let out = try TestPipe()
      var spec = ContainerSpec.busybox(["sh", "-c", "cat /etc/extra/note; test -e /bin/ls || echo no ls"], stdout: out.write)
      spec.extra_layers = [fd]
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "from an extra layer\nno ls\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
      let image = try engine.describeImage("busybox:latest")
      #expect(FileManager.default.fileExists(atPath: state.path + "/images/\(image.chain_id.dropFirst(7))/bin/ls"))
    }
  }

  @Test func execIntoARunningContainer() async throws {
    try await withEngine { engine, _ in
      let stdin = try TestPipe()
      let ready = try TestPipe()
      // main waits for a line on stdin, so it runs until we let it go.
      var spec = ContainerSpec.busybox(["sh", "-c", "echo ready; read line; exit 0"], stdout: ready.write)
      spec.stdin = stdin.read
      spec.name = "waiter"
      let c = try engine.createContainer(spec)
      ready.closeWrite()
      var buffer = [UInt8](repeating: 0, count: 6)
      _ = try buffer.withUnsafeMutableBytes { try ready.read.read(into: $0) }
      #expect(String(decoding: buffer, as: UTF8.self) == "ready\n")

      let out = try TestPipe()
      let notify = try TestEventFD()
      var exec = ExecSpec(arg0: "sh", args: ["-c", "echo from-exec $XC_ID $(hostname); exit 5"])
      exec.stdout = out.write
      exec.notify = notify.fd
      let info = try engine.exec("waiter", exec)
      #expect(info.pid > 0)
      #expect(try out.readAll() == "from-exec \(c.id) waiter\n")
      #expect(ProcessNotification.decodeExit(try notify.read())?.shellExitCode == 5)
      let execStat = try #require(engine.container(c.id).record.processes.first { $0.key != "main" }?.value)
      #expect(execStat.pid == info.pid && execStat.exec.arg0 == "sh")

      // An exec as another user, and one of a program that does not exist.
      let out2 = try TestPipe()
      var asUser = ExecSpec(arg0: "id", args: ["-u"])
      asUser.user = "nobody"
      asUser.stdout = out2.write
      _ = try engine.exec(c.id, asUser)
      #expect(try out2.readAll() == "65534\n")
      let err = #expect(throws: EngineError.self) { try engine.exec(c.id, ExecSpec(arg0: "/no/such/program")) }
      #expect(err?.code == .runtimeFailed)
      #expect(err?.detail?.contains("no such file") == true)

      _ = try stdin.write!.writeAll(Array("go\n".utf8))
      stdin.closeWrite()
      #expect(try await engine.waitExit(c.id).exitCode == 0)
      #expect(throws: EngineError.self) { try engine.exec(c.id, ExecSpec(arg0: "true")) }
    }
  }

  @Test func killAndStop() async throws {
    try await withEngine { engine, _ in
      let stdin = try TestPipe()
      var spec = ContainerSpec.busybox(["sh", "-c", "read line"])
      spec.stdin = stdin.read
      let exited = try TestEventFD()
      spec.main_exited_fd = exited.fd
      let c = try engine.createContainer(spec)
      #expect(try engine.container(c.id).record.status == .running)
      try engine.kill(c.id, signal: SIGKILL)
      let done = try await engine.waitExit(c.id)
      #expect(WaitStatus(rawValue: done.exit_status!).terminationSignal == SIGKILL)
      #expect(ProcessNotification.decodeExit(try exited.read())?.shellExitCode == 1)

      // stop: xc-init (PID 1) forwards SIGTERM to main, which dies of it.
      var spec2 = ContainerSpec.busybox(["sh", "-c", "read line"])
      spec2.stdin = stdin.read
      let c2 = try engine.createContainer(spec2)
      try engine.stop(c2.id, grace: .seconds(30))
      #expect(WaitStatus(rawValue: try engine.container(c2.id).record.exit_status!).terminationSignal == SIGTERM)

      // A main that handles SIGTERM ends within the grace, with its own status.
      var spec3 = ContainerSpec.busybox(["sh", "-c", "trap 'exit 7' TERM; echo up; while :; do sleep 1; done"])
      let up = try TestPipe()
      spec3.stdout = up.write
      let c3 = try engine.createContainer(spec3)
      up.closeWrite()
      var line = [UInt8](repeating: 0, count: 3)
      _ = try line.withUnsafeMutableBytes { try up.read.read(into: $0) }  // the trap is set
      #expect(String(decoding: line, as: UTF8.self) == "up\n")
      try engine.stop(c3.id, grace: .seconds(30))
      #expect(try engine.container(c3.id).record.exitCode == 7)
      #expect(throws: EngineError.self) { try engine.kill("nope") }
    }
  }

  @Test func namesListAndShow() async throws {
    try await withEngine { engine, _ in
      let stdin = try TestPipe()
      var spec = ContainerSpec.busybox(["sh", "-c", "read line"])
      spec.stdin = stdin.read
      spec.name = "db"
      let c = try engine.createContainer(spec)
      for bad in ["42", "a.b", "", "x/y"] {
        spec.name = bad
        let err = #expect(throws: EngineError.self) { try engine.createContainer(spec) }
        #expect(err?.code == .badName)
      }
      spec.name = "db"
      let dup = #expect(throws: EngineError.self) { try engine.createContainer(spec) }
      #expect(dup?.code == .nameInUse)
      var unknown = spec
      unknown.name = nil
      unknown.image_reference = "nothere:1"
      #expect((#expect(throws: EngineError.self) { try engine.createContainer(unknown) })?.code == .imageNotFound)

      #expect(try engine.containers().map(\.id) == [c.id])
      #expect(try engine.container("db").record.id == c.id)
      #expect(try engine.container(c.id).dead == false)
      #expect(throws: EngineError.self) { try engine.container("xc-\(c.id)") }  // not an alias
      // xcd's idle check counts live containers from memory: created to released.
      #expect(engine.liveCount == 1)
      stdin.closeWrite()  // `read` meets end of file and fails
      #expect(try await engine.waitExit("db").exitCode == 1)
      #expect(try engine.containers().isEmpty)
      #expect(engine.liveCount == 0)
    }
  }

  @Test func createOnlyThenRunMain() async throws {
    try await withEngine { engine, _ in
      let out = try TestPipe()
      var spec = ContainerSpec.busybox(["echo", "later"], stdout: out.write)
      spec.create_only = true
      let c = try engine.createContainer(spec)
      #expect(c.status == .created)
      #expect(c.started == nil)
      let notify = try TestEventFD()
      #expect(try engine.runMain(c.id, notify: notify.fd) == c.id)
      #expect(try notify.read() == 1)
      #expect(try out.readAll() == "later\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
    }
  }

  @Test func createdContainersCanBeKilledAndHaveNoMainWithoutEntryPoint() async throws {
    try await withEngine { engine, _ in
      var spec = ContainerSpec.busybox(["true"])
      spec.create_only = true
      let exited = try TestEventFD()
      spec.main_exited_fd = exited.fd
      let c = try engine.createContainer(spec)
      try engine.kill(c.id)
      let done = try await engine.waitExit(c.id)
      #expect(done.started == nil)
      #expect(done.status == .exited)

      var bare = ContainerSpec(image_reference: "busybox:latest")
      bare.entry_point = nil
      let started = try TestEventFD()
      bare.main_started_notify = started.fd
      let b = try engine.createContainer(bare)
      #expect(try started.read() == 1)
      #expect(b.main_proto == nil)
      #expect((#expect(throws: EngineError.self) { try engine.runMain(b.id) })?.code == .badRequest)
      // Like `xc create` then `xc exec`: the container has namespaces but no main.
      let out = try TestPipe()
      var exec = ExecSpec(arg0: "hostname")
      exec.stdout = out.write
      _ = try engine.exec(b.id, exec)
      #expect(try out.readAll() == "xc-\(b.id)\n")
      try engine.stop(b.id, grace: .milliseconds(100))
    }
  }

  @Test func runcFailureCarriesItsMessage() async throws {
    try await withEngine { engine, _ in
      let started = try TestEventFD()
      var spec = ContainerSpec.busybox(["/no/such/program"])
      spec.main_started_notify = started.fd
      let err = #expect(throws: EngineError.self) { try engine.createContainer(spec) }
      #expect(err?.code == .runtimeFailed)
      #expect(err?.detail?.contains("/no/such/program") == true, "\(String(describing: err))")
      #expect(try started.read() == 1)  // a waiting client still wakes, once
      #expect(try engine.containers().isEmpty)
    }
  }

  @Test func noCleanKeepsTheRecord() async throws {
    try await withEngine { engine, state in
      var spec = ContainerSpec.busybox(["true"])
      spec.no_clean = true
      let c = try engine.createContainer(spec)
      let done = try await engine.waitExit(c.id)
      #expect(done.exitCode == 0)
      #expect(try engine.containers().map(\.id) == [c.id])
      #expect(try engine.container(c.id).dead)
      state.expectClean()
    }
  }

  /// The kept record (`EndedContainers`) is the one record of an ended container: found by id
  /// and by name with its log moved out of the released directory, gone once forgotten.
  @Test func anEndedContainerIsFoundThroughItsKeptRecordUntilForgotten() async throws {
    try await withEngine { engine, state in
      var spec = ContainerSpec.busybox(["sh", "-c", "echo bye; exit 2"])
      spec.name = "gone1"
      let c = try engine.createContainer(spec)
      #expect(try await engine.waitExit(c.id).exitCode == 2)
      for name in [c.id, "gone1"] {
        let (record, dead) = try engine.container(name)
        #expect(dead && record.id == c.id && record.exitCode == 2, "\(name)")
        #expect(record.processes["main"]?.stdout_log_file == state.path + "/ended/\(c.id)/main.log", "\(name)")
        #expect(try await engine.waitExit(name).exitCode == 2, "\(name)")
      }
      #expect(try engine.endedContainers().map(\.id) == [c.id])
      #expect(try engine.forgetEnded("gone1") == [c.id])
      let unknown = #expect(throws: EngineError.self) { try engine.container(c.id) }
      #expect(unknown?.code == .containerNotFound)
      await #expect(throws: EngineError.self) { try await engine.waitExit(c.id) }
    }
  }

  /// `keep_ended: 0` keeps nothing: once released, an ended container is unknown (no record
  /// is held anywhere else).
  @Test func keepingNoEndedContainersForgetsThemAtTheirRelease() async throws {
    try await withEngine(keepEnded: EndedRetention(count: 0, seconds: 86_400)) { engine, state in
      let c = try engine.createContainer(.busybox(["true"]))
      #expect(try await engine.waitExit(c.id).exitCode == 0)
      #expect(try engine.endedContainers().isEmpty)
      let unknown = #expect(throws: EngineError.self) { try engine.container(c.id) }
      #expect(unknown?.code == .containerNotFound)
      #expect(((try? FileManager.default.contentsOfDirectory(atPath: state.path + "/ended")) ?? []).isEmpty)
    }
  }

  @Test func twentyContainersAtOnce() async throws {
    try await withEngine { engine, _ in
      try await withThrowingTaskGroup(of: (Int, String, Int32?).self) { group in
        for i in 0..<20 {
          group.addTask {
            let out = try TestPipe()
            let c = try engine.createContainer(.busybox(["sh", "-c", "echo n=\(i); exit \(i)"], stdout: out.write))
            let text = try out.readAll()
            return (i, text, try await engine.waitExit(c.id).exitCode)
          }
        }
        var seen = 0
        for try await (i, text, code) in group {
          #expect(text == "n=\(i)\n")
          #expect(code == Int32(i))
          seen += 1
        }
        #expect(seen == 20)
      }
      #expect(try engine.containers().isEmpty)
    }
  }

  @Test func shutdownStopsRunningContainers() async throws {
    let state = try TempState()
    defer { state.remove() }
    let engine = try Engine(stateDir: state.path)
    try importArchive(engine, try Fixtures.archive(), reference: "busybox:latest")
    let stdin = try TestPipe()
    var spec = ContainerSpec.busybox(["sh", "-c", "read line"])
    spec.stdin = stdin.read
    let c = try engine.createContainer(spec)
    engine.shutdown(grace: .seconds(30))
    #expect(WaitStatus(rawValue: try engine.container(c.id).record.exit_status!).terminationSignal == SIGTERM)
    #expect((#expect(throws: EngineError.self) { try engine.createContainer(spec) })?.code == .shutDown)
    state.expectClean()
    let again = try Engine(stateDir: state.path)
    #expect(try again.images().count == 1)
    #expect(try again.containers().isEmpty)
    again.shutdown()
    state.expectClean()
  }
}
