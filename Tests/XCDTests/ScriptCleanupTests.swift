import Foundation
import Glibc
import Synchronization
import Testing
import XCIPC

/// xcsh recipes against a real xcd that fail, are interrupted or terminated: their defers
/// run and remove what they made; a hundred failing runs leave nothing behind.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ScriptCleanupTests {
  var xcsh: String { (DaemonHarness.binary as NSString).deletingLastPathComponent + "/xcsh" }

  /// Runs `script` with xcsh against the daemon; with `signal`, sends it once the script has
  /// printed `ready`. Returns the exit status and stdout.
  /// Where a daemon is: what a script run needs of the harness (Sendable, for lanes).
  struct Target: Sendable {
    var dir: String
    var socket: String
    init(_ d: DaemonHarness) { (dir, socket) = (d.dir, d.socket) }
  }

  func run(_ daemon: DaemonHarness, _ script: String, signal: Int32? = nil, name: String = "recipe")
    throws -> (Int32, String)
  {
    try run(Target(daemon), script, signal: signal, name: name)
  }

  func run(_ daemon: Target, _ script: String, signal: Int32? = nil, name: String = "recipe")
    throws -> (Int32, String)
  {
    let path = daemon.dir + "/\(name).xcs"
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: xcsh)
    p.arguments = ["--socket", daemon.socket, path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    var seen = Data()
    if let signal {
      while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        seen.append(chunk)
      }
      kill(p.processIdentifier, signal)
    }
    seen.append(out.fileHandleForReading.readDataToEndOfFile())
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: seen, as: UTF8.self))
  }

  func recipe(_ name: String, then: String) -> String {
    """
    run -d --name \(name) busybox:latest -- /bin/sleep 1000 | ignore
    defer { kill \(name); print "cleaned \(name)" }
    \(then)
    """
  }

  @Test func failingInterruptedAndTerminatedRecipesRunTheirDefers() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let clean = try LeakCount.of(daemon)

      let failed = try run(daemon, recipe("rel-fail", then: "print ready\nerror make 'halfway'\nprint unreached"))
      #expect(failed.0 == 1 && failed.1 == "ready\ncleaned rel-fail\n", "\(failed)")
      #expect(try LeakCount.settle(daemon, to: clean) == clean)

      let interrupted = try run(daemon, recipe("rel-int", then: "print ready\nsleep 30s"), signal: SIGINT)
      #expect(interrupted.0 == 130 && interrupted.1 == "ready\ncleaned rel-int\n", "\(interrupted)")
      #expect(try LeakCount.settle(daemon, to: clean) == clean)

      let terminated = try run(
        daemon, recipe("rel-term", then: "fn work [] { defer { print inner }; print ready; sleep 30s }\nwork"),
        signal: SIGTERM)
      #expect(terminated.0 == 143 && terminated.1 == "ready\ninner\ncleaned rel-term\n", "\(terminated)")
      #expect(try LeakCount.settle(daemon, to: clean) == clean)
    }
  }

  @Test func aHundredFailingRunsLeaveNothing() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      let before = try LeakCount.of(daemon)
      let runs = 100, lanes = 4
      let failures = Mutex<[String]>([])
      let start = Date()
      let target = Target(daemon)
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        for i in stride(from: lane, to: runs, by: lanes) {
          do {
            let r = try run(
              target, recipe("rel-loop-\(i)", then: "error make 'failing run \(i)'"),
              name: "loop-\(i)")
            if r.0 != 1 || r.1 != "cleaned rel-loop-\(i)\n" {
              failures.withLock { $0.append("run \(i): \(r)") }
            }
          } catch {
            failures.withLock { $0.append("run \(i): \(error)") }
          }
        }
      }
      let elapsed = Date().timeIntervalSince(start)
      #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
      let after = try LeakCount.settle(daemon, to: before)
      #expect(after == before, "before: \(before); after: \(after)")
      reportFigure(
        "scripts: \(runs) failing runs (4 at a time) in \(String(format: "%.1f", elapsed)) s; before: \(before); after: \(after)")
    }
  }
}
