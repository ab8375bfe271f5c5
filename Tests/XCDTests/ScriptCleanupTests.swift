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

  /// What the networked recipes share: a network with a bridge of its own and room for 16
  /// addresses (fewer than the runs, so a leaked lease shows as a failed run), and a volume.
  struct Shared: Sendable {
    let tag = String(format: "%04x", UInt32.random(in: 0..<0x10000))
    let octet = Int.random(in: 1...250)
    /// Host ports base + run: below the ephemeral range, so no test's connection is caught.
    let portBase = Int.random(in: 29000..<29800)
    var network: String { "rl-\(tag)" }
    var bridge: String { "xs\(tag)" }
    var volume: String { "rel-vol-\(tag)" }
    var ensure: String {
      "network ensure \(network) 10.231.\(octet).0/24 10.231.\(octet).10 10.231.\(octet).25 --bridge \(bridge) --default-router 10.231.\(octet).1 | ignore\nvolume ensure \(volume) | ignore"
    }
  }

  /// A failing recipe that ensures the network and the volume, runs a VNET container on the
  /// network with a published port and the volume mounted, defers its kill, then fails.
  func networkedRecipe(_ name: String, _ shared: Shared, port: Int) -> String {
    """
    \(shared.ensure)
    run -d --vnet --network \(shared.network) -p \(port):80 -v \(shared.volume):/data --name \(name) busybox:latest -- /bin/sleep 1000 | ignore
    defer { kill \(name); print "cleaned \(name)" }
    error make 'failing run \(name)'
    """
  }

  @Test func aHundredFailingRunsLeaveNothing() throws {
    let shared = Shared()
    defer { NetworkCount.deleteLink(shared.bridge) }  // only if the test failed before removing it
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // Made once first, so the runs' `ensure`s (4 at a time) find them unchanged.
      let first = try run(daemon, shared.ensure + "\nprint made", name: "ensure")
      #expect(first.0 == 0 && first.1 == "made\n", "\(first)")
      let before = try LeakCount.of(daemon)
      #expect(before.volumes == 1 && before.leases == 0, "\(before)")
      let runs = 100, lanes = 4
      let failures = Mutex<[String]>([])
      let start = Date()
      let target = Target(daemon)
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        for i in stride(from: lane, to: runs, by: lanes) {
          do {
            let r = try run(
              target, networkedRecipe("rel-loop-\(i)", shared, port: shared.portBase + i),
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
      _ = try client.call(RemoveNetworkRequest(name: shared.network))
      _ = try client.call(RemoveVolumeRequest(name: shared.volume))
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(shared.bridge)"), "bridge left")
      reportFigure(
        "scripts: \(runs) failing runs (4 at a time; each ensures a network and a volume, runs a VNET container with a published port and the volume, then fails) in \(String(format: "%.1f", elapsed)) s; before: \(before); after: \(after)")
    }
  }
}
