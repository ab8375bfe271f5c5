import Foundation
import Glibc
import Synchronization
import Testing
import XCIPC

/// Many clients at once: each creates a container, execs into it, and kills it, for a bounded
/// number of rounds. Every call must be answered (a 120 s timeout is a lost reply), nothing
/// may deadlock, and afterwards nothing is left. The figures go to the reliability report.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct LoadTests {
  /// Clients and rounds; `XCD_LOAD_ROUNDS` raises the rounds for a longer local run.
  static let clients = 50
  static let rounds = Int(ProcessInfo.processInfo.environment["XCD_LOAD_ROUNDS"] ?? "") ?? 2

  struct Figures {
    var latencies: [String: [Double]] = [:]
    var errors: [String] = []
  }

  @Test func fiftyClientsCreateExecAndKill() throws {
    try withDaemon { daemon in
      try Fixtures.importImage(try daemon.client())
      reportFigure(try load(daemon, label: "load", clients: Self.clients, rounds: Self.rounds) { _ in })
    }
  }

  /// The same with networking: each container in its own network namespace with an address
  /// from a network of 40 and a published port; leases, veths, namespaces and dnat rules
  /// counted before and after.
  @Test func twentyClientsWithVnetContainers() throws {
    let net = NetworkTests.TestNet("load", base: 219)
    defer { NetworkCount.deleteLink(net.bridge) }  // only if the test failed before removing it
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      try net.create(client, start: 10, end: 49)
      let portBase = Int.random(in: 29000..<29800)
      let line = try load(daemon, label: "load with networking", clients: 20, rounds: Self.rounds) { r in
        r.vnet = true
        r.ipreq = [.any(network: net.name)]
        let n = Int(r.name?.split(separator: "-")[1] ?? "0") ?? 0
        let round = Int(r.name?.split(separator: "-")[2] ?? "0") ?? 0
        r.portRedirections = [
          PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(portBase + n * Self.rounds + round), destPort: 80)
        ]
      }
      _ = try client.call(RemoveNetworkRequest(name: net.name))
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"), "bridge left")
      reportFigure(line)
    }
  }

  /// `clients` threads at once, each `rounds` of instantiate (the request shaped by
  /// `configure`), exec, kill; checks every reply came, nothing failed and nothing is left.
  /// Returns the figures line.
  func load(
    _ daemon: DaemonHarness, label: String, clients: Int, rounds: Int,
    configure: @escaping @Sendable (inout InstantiateRequest) -> Void
  ) throws -> String {
      let before = try LeakCount.of(daemon)
      let figures = Mutex(Figures())
      let socket = daemon.socket
      let start = Date()
      // One thread per client, all released at once (concurrentPerform would run only as
      // many at a time as there are cores).
      let go = DispatchSemaphore(value: 0)
      let finished = DispatchGroup()
      for n in 0..<clients {
        finished.enter()
        Thread {
        defer { finished.leave() }
        go.wait()
        func timed<T>(_ what: String, _ body: () throws -> T) throws -> T {
          let t0 = DispatchTime.now().uptimeNanoseconds
          let v = try body()
          let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
          figures.withLock { $0.latencies[what, default: []].append(ms) }
          return v
        }
        do {
          let client = try XCClient(path: socket, timeout: .seconds(120))
          defer { client.close() }
          for round in 0..<rounds {
            let name = "load-\(n)-\(round)"
            let exited = try TestEventFD()
            var r = InstantiateRequest(
              imageReference: "busybox:latest",
              entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]), name: name)
            r.mainExitedFd = exited.ref
            configure(&r)
            _ = try timed("instantiate") { try client.call(r) }
            let out = try TestPipe()
            let done = try TestEventFD()
            _ = try timed("exec") {
              try client.call(
                ExecRequest(
                  name: name, arg0: "/bin/echo", args: [name], envs: [:], stdout: out.writeRef,
                  notify: done.ref))
            }
            let text = try out.readAll(seconds: 120)
            let status = try done.exitStatus(seconds: 120)
            if text != name + "\n" || status.exitCode != 0 {
              figures.withLock { $0.errors.append("\(name): exec said \(text) \(status)") }
            }
            _ = try timed("kill") { try client.call(KillContainerRequest(name: name)) }
            _ = try exited.exitStatus(seconds: 120)
          }
        } catch {
          figures.withLock { $0.errors.append("client \(n): \(error)") }
        }
        }.start()
      }
      for _ in 0..<clients { go.signal() }
      #expect(finished.wait(timeout: .now() + 600) == .success, "clients still running after 10 min: deadlock?")
      let elapsed = Date().timeIntervalSince(start)
      let f = figures.withLock { $0 }
      #expect(f.errors.isEmpty, "\(f.errors.prefix(10))")
      for what in ["instantiate", "exec", "kill"] {
        #expect(f.latencies[what]?.count == clients * rounds, "\(what) replies")
      }
      let after = try LeakCount.settle(daemon, to: before, seconds: 120)
      #expect(after == before, "before: \(before); after: \(after)")

      func pct(_ xs: [Double], _ p: Double) -> String {
        let s = xs.sorted()
        guard !s.isEmpty else { return "-" }
        return String(format: "%.0f", s[min(s.count - 1, Int(Double(s.count) * p))])
      }
      let ops = f.latencies.values.map(\.count).reduce(0, +)
      var line = "\(label): \(clients) clients x \(rounds) rounds: \(ops) calls in "
      line += String(format: "%.1f s", elapsed)
      for what in ["instantiate", "exec", "kill"] {
        let xs = f.latencies[what] ?? []
        line += "; \(what) p50 \(pct(xs, 0.5)) ms p99 \(pct(xs, 0.99)) ms max \(pct(xs, 1)) ms"
      }
      line += "; lost replies \(clients * rounds * 3 - ops); leaks after: \(after == before ? "none" : after.description)"
      return line
  }
}
