import Synchronization
import Testing
import XCIPC
import XCShell
@testable import XCObjects

/// Features the real xcd lacks are refused clearly: a daemon that answers an `xcsh.*` method
/// as xc does for an unknown one ("ipc method … not found") gives `daemon.unsupported`, "not
/// supported by this daemon", never a silent fallback or a "not found" object.
@Suite struct ExtensionSupportTests {
  @Test func psAllAndRmOnADaemonWithoutTheExtensionsSayNotSupported() throws {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    for (code, method) in [("ps --all", "xcsh.list_ended"), ("rm crash1", "xcsh.remove_container")] {
      do {
        _ = try xcsh(code, fake)
        Issue.record("\(code) succeeded against a daemon without \(method)")
      } catch let e as ShellError {
        #expect(e.code.rawValue == "daemon.unsupported", "\(code): \(e)")
        #expect(e.message.contains("not supported by this daemon") && e.message.contains(method), "\(e.message)")
      }
    }
    // `ps` alone stays xc's list_containers.
    _ = try xcsh("ps", fake)
    #expect(fake.methods.filter { $0 == "list_containers" }.count == 2)
  }
}

/// The extension probe is asked once per route for the session: a daemon does not lose the
/// extensions while connected; a connection made again (the daemon restarted) asks anew.
@Suite struct ExtensionProbeMemoryTests {
  /// A shell over one session, with the route `a` going to `a`.
  func shell(_ own: FakeDaemon, a: FakeDaemon) -> (Shell, DaemonSession) {
    let session = DaemonSession(socketPath: own.path)
    session.routeForTesting("a", socketPath: a.path)
    let registry = Builtins.registry()
    for c in ObjectCommands.all(session) { registry.register(c) }
    return (Shell(options: ShellOptions(), registry: registry), session)
  }

  @Test func severalCommandsProbeEachRouteOnce() throws {
    let own = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    let a = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]")])
    defer {
      own.stop()
      a.stop()
    }
    let (shell, session) = shell(own, a: a)
    defer { session.finish() }
    for _ in 0..<3 {
      _ = try shell.evaluate(SourceMap.shared.add(name: "<test>", text: "run -d busybox:latest --memory 64m"))
      _ = try shell.evaluate(SourceMap.shared.add(name: "<test>", text: "on a { run -d busybox:latest --pids-limit 5 }"))
    }
    #expect(own.methods.filter { $0 == "xcsh.stats" }.count == 1, "\(own.methods)")
    #expect(a.methods.filter { $0 == "xcsh.stats" }.count == 1, "\(a.methods)")
    #expect(own.methods.filter { $0 == "instantiate" }.count == 3 && a.methods.filter { $0 == "instantiate" }.count == 3)
  }

  @Test func aDaemonWithoutThemIsAlsoAskedOnce() throws {
    let xc = try FakeDaemon()
    defer { xc.stop() }
    let (shell, session) = shell(xc, a: xc)
    defer { session.finish() }
    for code in ["run -d busybox:latest --memory 64m", "create busybox:latest --cpus 1", "exec --detach c1 -- true"] {
      #expect(throws: ShellError.self) { try shell.evaluate(SourceMap.shared.add(name: "<test>", text: code)) }
    }
    #expect(xc.methods.filter { $0 == "xcsh.stats" }.count == 1, "\(xc.methods)")
    #expect(!xc.methods.contains("instantiate") && !xc.methods.contains("exec"))
  }

  /// The answer holds for the connection it came over: once the transport made its
  /// connection again, the next question probes again.
  @Test func aConnectionMadeAgainIsAskedAgain() throws {
    let generation = Mutex<UInt64>(0)
    let probes = Mutex(0)
    let support = ExtensionSupport { generation.withLock { $0 } }
    func ask() -> Bool { support.served { probes.withLock { $0 += 1 }; return true } }
    #expect(ask() && ask())
    #expect(probes.withLock { $0 } == 1)
    generation.withLock { $0 += 1 }
    #expect(ask() && ask())
    #expect(probes.withLock { $0 } == 2)
  }
}

/// The window size of an attached terminal goes by `xcsh.resize` only to a daemon that serves
/// the extensions, which is asked once per route and remembered; xc's daemon is never sent it.
@Suite struct TerminalSizeProbeTests {
  @Test func aDaemonWithoutTheExtensionIsProbedOnceAndNeverSentASize() throws {
    let xc = try FakeDaemon()
    defer { xc.stop() }
    let s = DaemonSession(socketPath: xc.path)
    #expect(try !s.servesTerminalResize(at: .unknown))
    #expect(try !s.servesTerminalResize(at: .unknown))
    #expect(TerminalSize.forProcess(s, container: "c1", at: .unknown) == nil)
    #expect(xc.methods == ["xcsh.stats"])
  }

  @Test func theSizeIsSentOnceAndAgainOnlyWhenItChanges() throws {
    let linux = try FakeDaemon(replies: ["xcsh.stats": FakeDaemon.ok("[]"), "xcsh.resize": FakeDaemon.ok("null")])
    defer { linux.stop() }
    let s = DaemonSession(socketPath: linux.path)
    #expect(try s.servesTerminalResize(at: .unknown))
    #expect(try s.servesTerminalResize(at: .unknown))
    var size = TerminalSize(s, container: "c1", process: "3")
    size.update(to: (40, 120), at: .unknown)
    size.update(to: (40, 120), at: .unknown)
    size.update(to: nil, at: .unknown)
    size.update(to: (50, 100), at: .unknown)
    #expect(size.failure == nil)
    #expect(linux.methods == ["xcsh.stats", "xcsh.resize", "xcsh.resize"])
    #expect(
      linux.requests.filter { $0.method == "xcsh.resize" }.map(\.body) == [
        #"{"method":"xcsh.resize","value":{"name":"c1","process":"3","rows":40,"cols":120}}"#,
        #"{"method":"xcsh.resize","value":{"name":"c1","process":"3","rows":50,"cols":100}}"#,
      ])
  }

  @Test func aProcessThatEndedIsNoFailureButABadAnswerIsKept() throws {
    let gone = try FakeDaemon(replies: [
      "xcsh.resize": { _ in #"{"errno":2,"value":{"error":"container c1 has no running process main"}}"# }
    ])
    defer { gone.stop() }
    var size = TerminalSize(DaemonSession(socketPath: gone.path), container: "c1")
    size.update(to: (40, 120), at: .unknown)
    #expect(size.failure == nil)

    let refusing = try FakeDaemon(replies: [
      "xcsh.resize": { _ in #"{"errno":22,"value":{"error":"xcsh.resize: rows must be 1 to 65535, found 0"}}"# }
    ])
    defer { refusing.stop() }
    size = TerminalSize(DaemonSession(socketPath: refusing.path), container: "c1")
    size.update(to: (40, 120), at: .unknown)
    let failure = try #require(size.failure as? ShellError)
    #expect(failure.message.contains("rows must be 1 to 65535"), "\(failure)")
  }
}
