import Foundation
import Glibc
import Testing
import XCIPC

/// Repeated VNET containers on a network with room for only two addresses: a leaked lease
/// would exhaust it within three rounds, so every round succeeding proves leases are returned.
/// The daemon's veths and nftables rules are counted before and after (scoped to this daemon:
/// its veth prefix and its own table).
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct NetworkLeakTests {
  static let rounds = 40

  func veths(_ daemon: DaemonHarness) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
      .filter { $0.hasPrefix(daemon.vethPrefix) }.count
  }

  /// Rules and chains in the daemon's nftables table (0 when it has none).
  func nftObjects(_ daemon: DaemonHarness) -> Int {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/nft")
    p.arguments = ["-a", "list", "table", "ip", daemon.nftTable]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return -1 }
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return text.components(separatedBy: "# handle").count - 1
  }

  @Test func vnetContainersReturnLeasesVethsAndRules() throws {
    let net = NetworkTests.TestNet("leak", base: 227)
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      try net.create(client, start: 10, end: 11)
      let before = (veths: veths(daemon), nft: nftObjects(daemon))
      let start = Date()
      for round in 0..<Self.rounds {
        let exited = try TestEventFD()
        var r = InstantiateRequest(
          imageReference: "busybox:latest",
          entryPoint: EntryPoint(
            entryPoint: "/bin/sh", entryPointArgs: ["-c", round % 4 == 0 ? "sleep 1000" : "true"]),
          name: "leak-\(round)")
        r.vnet = true
        r.ipreq = [.any(network: net.name)]
        r.mainExitedFd = exited.ref
        _ = try client.call(r)
        if round % 4 == 0 { _ = try client.call(KillContainerRequest(name: "leak-\(round)")) }
        _ = try exited.exitStatus(seconds: 60)
        let deadline = Date().addingTimeInterval(30)
        while try !client.call(ListContainersRequest()).isEmpty && Date() < deadline {
          usleep(20_000)  // the container's release (lease, veth, rules), bounded
        }
      }
      let elapsed = Date().timeIntervalSince(start)
      let deadline = Date().addingTimeInterval(30)
      while (veths(daemon), nftObjects(daemon)) != before && Date() < deadline {
        usleep(50_000)  // teardown of the last round, bounded
      }
      let after = (veths: veths(daemon), nft: nftObjects(daemon))
      #expect(after == before, "veths/nft objects before \(before), after \(after)")
      _ = try client.call(RemoveNetworkRequest(name: net.name))
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"))
      reportFigure(
        "network: \(Self.rounds) VNET containers on a 2-address network in \(String(format: "%.1f", elapsed)) s, every lease returned; veths \(before.veths)->\(after.veths), nftables objects \(before.nft)->\(after.nft)")
    }
  }
}
