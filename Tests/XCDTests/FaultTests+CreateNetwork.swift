import Foundation
import Synchronization
import Testing
import XCIPC

/// `kill -9` of xcd while networks (each with a bridge of its own) are being created, with a
/// VNET container holding a lease, a veth, a network namespace and a published port. After
/// the restart every listed network is whole (its bridge a bridge, up, with its router
/// address), no bridge of the test is left without a network, and the container's lease,
/// veth, namespace and dnat rule are gone.
extension FaultTests {
  @Test func killNineDuringCreateNetworkThenRestart() throws {
    let tag = String(format: "%04x", UInt32.random(in: 0..<0x10000))
    let bridgePrefix = "xk" + tag
    let daemon = try DaemonHarness()
    defer {
      // Whatever happened, no daemon and no bridge of this test stays on the host.
      try? daemon.stop()
      for b in NetworkCount.links(prefix: bridgePrefix) { NetworkCount.deleteLink(b) }
      daemon.remove()
    }
    try daemon.start()
    let client = try daemon.client()
    try Fixtures.importImage(client)

    // A network with room for one address, held by a VNET container with a published port.
    let octet = Int.random(in: 200...250)
    var routers = ["kc-\(tag)-one": "10.229.\(octet).254"]
    let one = CreateNetworkRequest(
      name: "kc-\(tag)-one", bridgeIface: bridgePrefix + "x", subnet: "10.229.\(octet).0/24",
      startAddr: "10.229.\(octet).10", endAddr: "10.229.\(octet).10", defaultRouter: "10.229.\(octet).254")
    _ = try client.call(one)
    func holder(_ name: String) throws -> InstantiateRequest {
      var r = InstantiateRequest(
        imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]),
        name: name)
      r.vnet = true
      r.ipreq = [.any(network: one.name)]
      r.portRedirections = [
        PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(try LoopbackRegistry.freePort()), destPort: 80)
      ]
      return r
    }
    _ = try client.call(try holder("holder"))
    let held = try LeakCount.of(daemon)
    #expect(held.leases == 1 && held.veths == 1 && held.netns == 1 && held.dnatRules == 1, "\(held)")

    // 100 networks created on 4 connections; the daemon dies among them.
    let group = DispatchGroup()
    let refused = Mutex<[String]>([])
    for lane in 0..<4 {
      let c = try daemon.client()
      group.enter()
      // Threads, not the global queue: all four lanes must be in flight at once.
      Thread {
        defer { group.leave() }
        for j in 0..<25 {
          let n = lane * 25 + j
          do {
            _ = try c.call(
              CreateNetworkRequest(
                name: "kc-\(tag)-\(n)", bridgeIface: bridgePrefix + "\(n)", subnet: "10.229.\(n).0/24",
                defaultRouter: "10.229.\(n).1"))
          } catch let e as IPCError where e.daemonError != nil {
            refused.withLock { $0.append("\(n): \(e)") }  // answered with an error: not the crash
          } catch {
            return  // the connection died with the daemon
          }
        }
      }.start()
    }
    for n in 0..<100 { routers["kc-\(tag)-\(n)"] = "10.229.\(n).1" }
    let deadline = Date().addingTimeInterval(60)
    while daemon.log.components(separatedBy: "network created").count < 10 && Date() < deadline {
      usleep(2_000)  // polling the daemon's log, bounded by the deadline
    }
    try daemon.crash()
    #expect(group.wait(timeout: .now() + 60) == .success, "clients hung after the crash")
    #expect(refused.withLock { $0 }.isEmpty, "creates refused before the crash: \(refused.withLock { $0 })")

    // The windows a crash can hit inside create_network, made certain: a bridge without its
    // address, a bridge left down, a network saved whose bridge was never made.
    let made = NetworkCount.links(prefix: bridgePrefix).filter { $0 != one.bridgeIface }.sorted()
    try #require(made.count >= 3, "only \(made) made before the crash")
    _ = NetworkCount.output(["/usr/sbin/ip", "addr", "flush", "dev", made[0]])
    _ = NetworkCount.output(["/usr/sbin/ip", "link", "set", made[1], "down"])
    NetworkCount.deleteLink(made[2])

    try daemon.start()
    let after = try daemon.client()
    let nets = try after.call(ListNetworksRequest()).networkInfo.filter { $0.name.hasPrefix("kc-\(tag)-") }
    #expect(nets.count >= 9, "networks listed after the restart: \(nets.map(\.name))")
    for net in nets {
      let bridge = try #require(net.bridgeIface)
      #expect(
        NetworkCount.bridgeIsWhole(bridge, address: routers[net.name]),
        "network \(net.name): bridge \(bridge) is not whole after the restart")
    }
    let owned = Set(nets.compactMap(\.bridgeIface))
    let onHost = Set(NetworkCount.links(prefix: bridgePrefix))
    #expect(onHost == owned, "bridges without a network: \(onHost.subtracting(owned)); networks without a bridge: \(owned.subtracting(onHost))")
    // The holder's lease, veth, namespace and dnat rule are gone, and the one address is free.
    let reconciled = try LeakCount.of(daemon)
    #expect(
      reconciled.containers == 0 && reconciled.leases == 0 && reconciled.veths == 0 && reconciled.netns == 0
        && reconciled.dnatRules == 0, "\(reconciled)")
    _ = try after.call(try holder("holder-again"))
    #expect(try LeakCount.of(daemon).leases == 1)
    _ = try after.call(KillContainerRequest(name: "holder-again"))
    let settled = try LeakCount.settle(daemon, to: reconciled)
    #expect(settled == reconciled, "after the second holder: \(settled)")
    try expectRecovered(daemon, images: ["busybox:latest"])

    for net in nets { _ = try after.call(RemoveNetworkRequest(name: net.name)) }
    #expect(NetworkCount.links(prefix: bridgePrefix).isEmpty, "bridges left: \(NetworkCount.links(prefix: bridgePrefix))")
    try daemon.stop()
    daemon.expectClean()
    reportFigure(
      "network crash: kill -9 with \(nets.count - 1) of 100 networks created; 3 half-made bridges remade; lease, veth, netns and dnat rule of a VNET container reconciled")
  }
}
