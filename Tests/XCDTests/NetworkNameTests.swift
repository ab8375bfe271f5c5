import Foundation
import Testing
import XCIPC

/// Bad network and interface names sent to a real xcd: each refused with EINVAL naming the
/// method and the field, nothing created (no network listed, no interface made), and the
/// daemon serving a good request afterwards.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (bridges)"))
struct NetworkNameTests {
  @Test func badNetworkAndInterfaceNamesAreRefusedByField() throws {
    let tag = String(format: "%04x", UInt32.random(in: 0..<0x10000))
    defer { NetworkCount.deleteLink("xn\(tag)") }  // only if the good create's removal failed
    try withDaemon { daemon in
      let client = try daemon.client()
      let ok = "nn-\(tag)"
      var cases: [(String, () throws -> Void)] = []
      for bad in ["", "a/b", "a b", "a.b", "-rf", "x;y", String(repeating: "n", count: 16)] {
        cases.append(("create_network: name", { _ = try client.call(CreateNetworkRequest(name: bad, bridgeIface: "xn\(tag)")) }))
        cases.append(("xcsh.remove_network: name", { _ = try client.call(RemoveNetworkRequest(name: bad)) }))
        cases.append(("add-netgroup: netgroup_name", {
          _ = try client.call(AddNetgroupRequest(netgroupName: bad, containerName: "c", autoCreateNetgroup: true, commitImmediately: true))
        }))
        cases.append(("commit_netgroup: netgroup_name", { _ = try client.call(CommitNetgroupRequest(netgroupName: bad)) }))
        cases.append(("instantiate: ipreq[0].network (xcsh: --network)", {
          var r = InstantiateRequest(imageReference: "busybox:latest", name: "c")
          r.vnet = true
          r.ipreq = [.any(network: bad)]
          _ = try client.call(r)
        }))
      }
      for bad in ["", "..", "br 0", "br/0", "x;y", "b\n", String(repeating: "i", count: 16)] {
        cases.append(("create_network: bridge_iface (xcsh: network create --bridge)", { _ = try client.call(CreateNetworkRequest(name: ok, bridgeIface: bad)) }))
        cases.append(("create_network: alias_iface (xcsh: network create --alias)", { _ = try client.call(CreateNetworkRequest(name: ok, aliasIface: bad)) }))
      }
      for (field, call) in cases {
        let e = try daemonError { try call() }
        #expect(e.errno == 22 && e.value.text.hasPrefix(field + ": bad"), "\(field): \(e)")
      }
      #expect(try client.call(ListNetworksRequest()).networkInfo.allSatisfy { $0.name == "default" })
      #expect(try client.call(ListContainersRequest()).isEmpty)
      #expect(NetworkCount.links(prefix: "xn\(tag)").isEmpty, "a bridge made by a refused request")

      // Still serving: a good network is made and removed, its bridge with it.
      _ = try client.call(CreateNetworkRequest(name: ok, bridgeIface: "xn\(tag)", subnet: "10.233.\(Int.random(in: 1...250)).0/24"))
      #expect(FileManager.default.fileExists(atPath: "/sys/class/net/xn\(tag)/bridge"))
      _ = try client.call(RemoveNetworkRequest(name: ok))
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/xn\(tag)"))
      reportFigure("network names: \(cases.count) requests with bad network or interface names refused by method and field")
    }
  }
}
