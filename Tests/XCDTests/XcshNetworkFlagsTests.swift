import Foundation
import Testing
import XCIPC

/// Networking through xcsh's commands against the real xcd: an unmanaged `--ip` address on a
/// VNET container, and network groups (`network tag`, `network commit-tag`) writing the
/// members' hosts files. Leak checks (bridge, veths, nftables table) as in NetworkTests.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct XcshNetworkFlagsTests {
  let e2e = ObjectCommandsE2ETests()

  @Test func ipFlagAddsAnAddressInsideAVnetContainer() throws {
    let net = NetworkTests.TestNet("ip", base: 224)
    try NetworkTests().withNetworkDaemon(net) { daemon, client in
      let extra = net.address(77)
      let out = try e2e.ok(
        """
        network create \(net.name) \(net.subnet) --bridge \(net.bridge) --default-router \(net.router) | ignore
        let c = (run busybox:latest --vnet --network \(net.name) --ip 'eth0|\(extra)/24' -d --name ip1 -- sleep 1000)
        print $c.ip
        print (exec $c -- ip -4 -o addr show dev eth0)
        print (exec $c -- cat /proc/net/fib_trie | str contains '\(extra)')
        """, daemon)
      _ = try e2e.xcsh("ps | kill", daemon)
      try e2e.expectNoContainers(client)
      let lines = out.split(separator: "\n").map(String.init)
      #expect(lines.count >= 3, "\(out)")
      let main = lines.first ?? ""
      // The main address is the network's lease; the --ip address sits beside it on eth0.
      #expect(main.hasPrefix("10.224.\(net.octet).") && main != extra, "\(out)")
      #expect(out.contains("inet \(main)/24"), "\(out)")
      #expect(out.contains("inet \(extra)/24"), "\(out)")
      #expect(lines.last == "true", "\(out)")
      // A malformed --ip is refused before anything reaches the daemon, naming the flag.
      let (status, _, err) = try e2e.xcsh("run busybox:latest --vnet --ip 'eth0|10.1.2.300/24' -- true", daemon)
      #expect(status == 1)
      #expect(err.contains("--ip") && err.contains("10.1.2.300/24"), "\(err)")
      try e2e.expectNoContainers(client)
      _ = try e2e.ok("network rm \(net.name)", daemon)
    }
  }

  @Test func networkTagAndCommitTagWriteEachMembersHosts() throws {
    let net = NetworkTests.TestNet("tag", base: 224)
    try NetworkTests().withNetworkDaemon(net) { daemon, client in
      let out = try e2e.ok(
        """
        network create \(net.name) \(net.subnet) --bridge \(net.bridge) --default-router \(net.router) | ignore
        let a = (run busybox:latest --vnet --network \(net.name) -d --name tag-a -- sleep 1000)
        let b = (run busybox:latest --vnet --network \(net.name) -d --name tag-b -- sleep 1000)
        network tag \(net.name) $a --no-commit
        $b | network tag \(net.name) --no-commit
        print '--- before'
        print (exec $a -- sh -c 'cat /etc/hosts 2>/dev/null; true')
        network commit-tag \(net.name)
        print '--- a'
        print (exec $a -- cat /etc/hosts)
        print '--- b'
        print (exec tag-b -- cat /etc/hosts)
        print '--- ips'
        print $a.ip $b.ip
        """, daemon)
      // Whatever the checks below find, nothing is left for the leak checks.
      _ = try e2e.xcsh("ps | kill", daemon)
      try e2e.expectNoContainers(client)
      _ = try e2e.ok("network rm \(net.name)", daemon)
      let parts = out.components(separatedBy: "--- ")
      #expect(parts.count == 5, "\(out)")
      guard parts.count == 5 else { return }
      let ips = parts[4].split(separator: "\n").dropFirst().map(String.init)
      #expect(ips.count == 2, "\(out)")
      guard ips.count == 2 else { return }
      let (ipA, ipB) = (ips[0], ips[1])
      #expect(ipA.hasPrefix("10.224.\(net.octet).") && ipB.hasPrefix("10.224.\(net.octet).") && ipA != ipB, "\(out)")
      // --no-commit: nothing written yet.
      #expect(!parts[1].contains("tag-b"), "\(parts[1])")
      for hosts in [parts[2], parts[3]] {
        #expect(hosts.contains("127.0.0.1 localhost\n"), "\(hosts)")
        #expect(hosts.contains("\(ipA) tag-a\n") && hosts.contains("\(ipB) tag-b\n"), "\(hosts)")
      }
    }
  }
}
