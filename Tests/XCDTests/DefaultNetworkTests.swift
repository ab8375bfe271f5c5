import Foundation
import Testing
import XCIPC
import XCTestSupport

/// Publishing a port just works: the daemon's default network (xc.conf `default_network`,
/// 10.219.0.0/24 unless configured), networks created without a bridge or router, and errors
/// that name the xcsh flag behind each wire field. Real xcd, runc, bridges, nftables.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct DefaultNetworkTests {
  let e2e = ObjectCommandsE2ETests()
  let nt = NetworkTests()

  func linkExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "/sys/class/net/\(name)") }

  @Test func aPortPublishedWithNoNetworkNamedAnswersFromTheHost() throws {
    var bridge = ""
    defer { if !bridge.isEmpty && linkExists(bridge) { NetworkCount.deleteLink(bridge) } }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      // Created on the first start; its bridge only when a container first needs it.
      let nets = try client.call(ListNetworksRequest()).networkInfo
      let standard = try #require(nets.first { $0.name == "default" }, "networks: \(nets.map(\.name))")
      #expect(standard.subnet == "10.219.0.0/24", "\(standard)")
      bridge = try #require(standard.bridgeIface)
      #expect(!linkExists(bridge), "bridge \(bridge) made before any container needed it")

      let port = try nt.freePort()
      let ip = try e2e.ok(
        """
        let c = (run busybox:latest -d --name web -p \(port):80 -- sh -c 'mkdir -p /www && echo from-default > /www/index.html && exec httpd -f -p 80 -h /www')
        wait $c --port 80 --timeout 30s | get ip
        """, daemon)
      #expect(ip.hasPrefix("10.219.0."), "\(ip)")
      #expect(try nt.httpGet(port: port).contains("from-default"))
      #expect(NetworkCount.bridgeIsWhole(bridge, address: "10.219.0.1"))
      // Its own network stack (VNET): the container's eth0 holds the address, not the host.
      let inside = try e2e.ok("exec web -- ip -4 -o addr show dev eth0", daemon)
      #expect(inside.contains("inet \(ip.trimmingCharacters(in: .whitespacesAndNewlines))/24"), "\(inside)")
      _ = try e2e.ok("kill web", daemon)
      try e2e.expectNoContainersNow(client)
      let left = try LeakCount.of(daemon)
      #expect(left.leases == 0 && left.veths == 0 && left.dnatRules == 0, "\(left)")
    }
    // The shutdown takes the default network's bridge away with it.
    #expect(!linkExists(bridge), "default bridge \(bridge) left after the daemon stopped")
  }

  /// `ps` shows each container's published ports as `docker ps` does (issue 18): one
  /// `list_rdr_rules` joined to the containers by address; on a terminal, in the `ports` column.
  @Test func psShowsPublishedPortsOnATerminal() throws {
    var bridge = ""
    defer { if !bridge.isEmpty && linkExists(bridge) { NetworkCount.deleteLink(bridge) } }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      bridge = try #require(try client.call(ListNetworksRequest()).networkInfo.first { $0.name == "default" }?.bridgeIface)
      let port = try nt.freePort()
      _ = try e2e.ok(
        """
        run busybox:latest -d --name web -p \(port):80/tcp -- sleep 1000 | ignore
        run busybox:latest -d --name quiet -- sleep 1000 | ignore
        """, daemon)
      let ports = try e2e.ok("ps | sort-by name | each {|c| [$c.name ...$c.ports] | str join ' '} | to json", daemon)
      #expect(ports == #"["quiet","web \#(port)->80/tcp"]"# + "\n", "\(ports)")

      let t = try TmuxSession(socket: daemon.socket, xcsh: XCShellObjectTests.xcsh)
      defer { t.close() }
      try t.waitForEditor("[xcd.sock up] >")
      try t.type("ps | sort-by name")
      try t.press("Enter")
      let screen = try t.waitFor("\(port)->80/tcp")
      let lines = screen.split(separator: "\n")
      #expect(lines.contains { $0.contains(" ports ") && $0.contains(" name ") }, "\(screen)")
      #expect(lines.contains { $0.contains("web") && $0.contains("\(port)->80/tcp") }, "\(screen)")
      #expect(lines.contains { $0.contains("quiet") && !$0.contains("->") }, "\(screen)")
      _ = try e2e.ok("kill web quiet", daemon)
      try e2e.expectNoContainersNow(client)
      let left = try LeakCount.of(daemon)
      #expect(left.leases == 0 && left.veths == 0 && left.dnatRules == 0, "\(left)")
    }
    #expect(!linkExists(bridge), "default bridge \(bridge) left after the daemon stopped")
  }

  @Test func networkCreateWithOnlyASubnetNamesTheBridgeAndRouter() throws {
    let tag = String(UInt32.random(in: 0..<0xffff), radix: 16)
    let octet = Int.random(in: 1...250)
    let name = "auto-\(tag)"
    var bridge = ""
    defer { if !bridge.isEmpty && linkExists(bridge) { NetworkCount.deleteLink(bridge) } }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let out = try e2e.ok(
        """
        network create \(name) 10.218.\(octet).0/24 | ignore
        let c = (run busybox:latest -d --vnet --network \(name) --name auto1 -- sleep 1000)
        print $c.ip
        print (exec $c -- ip route)
        """, daemon)
      let net = try #require(try client.call(ListNetworksRequest()).networkInfo.first { $0.name == name })
      bridge = try #require(net.bridgeIface, "\(net)")
      #expect(bridge.hasPrefix("xb") && bridge.count == 15, "\(bridge)")
      #expect(NetworkCount.bridgeIsWhole(bridge, address: "10.218.\(octet).1"))
      #expect(out.hasPrefix("10.218.\(octet)."), "\(out)")
      #expect(out.contains("default via 10.218.\(octet).1"), "\(out)")
      _ = try e2e.ok("kill auto1; network rm \(name)", daemon)
      try e2e.expectNoContainersNow(client)
      #expect(!linkExists(bridge), "bridge \(bridge) left after network rm")
    }
  }

  @Test func withoutADefaultNetworkErrorsNameTheFlags() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    let config = daemon.dir + "/xc.conf"
    try "default_network: \"\"\n".write(toFile: config, atomically: true, encoding: .utf8)
    try daemon.start(extraArguments: ["--config", config])
    do {
      let client = try daemon.client()
      try Fixtures.importImage(client)
      #expect(try client.call(ListNetworksRequest()).networkInfo.isEmpty)
      let (status, _, err) = try e2e.xcsh("run busybox:latest -d -p 18081:80 -- true", daemon)
      #expect(status != 0)
      #expect(err.contains("port_redirections (xcsh: -p)") && err.contains("xcsh: --network") && err.contains("xcsh: --ip"), "\(err)")
      let tag = String(UInt32.random(in: 0..<0xffff), radix: 16)
      let (s2, _, err2) = try e2e.xcsh(
        "network create al-\(tag) 10.218.251.0/24 --alias lo; run busybox:latest --vnet --network al-\(tag) -- true", daemon)
      #expect(s2 != 0)
      #expect(err2.contains("has no bridge_iface (xcsh: network create --bridge)"), "\(err2)")
      _ = try e2e.ok("network rm al-\(tag)", daemon)
      try e2e.expectNoContainersNow(client)
    } catch {
      try? daemon.stop()
      throw error
    }
    try daemon.stop()
    daemon.expectClean()
  }
}
