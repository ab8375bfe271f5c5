import Foundation
import Glibc
import SystemPackage
import XCIPC

/// The cost of networking: RUNS pairs of containers running /bin/true, one plain and one
/// VNET on a network with a published port (lease, veth into the bridge, namespace set-up,
/// nftables rule, and their teardown), alternated so drifting load hits both alike. Prints
/// `net_plain_*` and `net_vnet_*` p50/p90 (ms). The network is removed at the end.
func benchNetwork(socket: String, archive: String, runs: Int, bridge: String, octet: Int) throws {
  let client = try XCClient(path: socket, timeout: .seconds(120))
  let image = try FileDescriptor.open(archive, .readOnly)
  _ = try client.call(
    FdImportRequest(
      fd: FDRef(image), config: JailConfig(secureLevel: 0), imageReference: "busybox:latest"))
  try image.close()
  let devnull = try FileDescriptor.open("/dev/null", .readWrite)
  let network = "bench-\(getpid())"
  _ = try client.call(
    CreateNetworkRequest(
      name: network, bridgeIface: bridge, subnet: "10.212.\(octet).0/24",
      defaultRouter: "10.212.\(octet).254"))
  defer { _ = try? client.call(RemoveNetworkRequest(name: network)) }
  // A fixed host port: each container's rule is removed before the next one is added.
  let port = 20_000 + Int(getpid() % 20_000)
  let vnet: (inout InstantiateRequest) -> Void = {
    $0.vnet = true
    $0.ipreq = [.any(network: network)]
    $0.portRedirections = [
      PortRedirection(ifaces: [], proto: [.tcp], sourcePort: .single(port), destPort: 80)
    ]
  }
  try runTrue(client, devnull: devnull)  // warm-up
  try runTrue(client, devnull: devnull, configure: vnet)
  var plain: [Double] = []
  var networked: [Double] = []
  for _ in 0..<runs {
    var t0 = clock.now
    try runTrue(client, devnull: devnull)
    plain.append(milliseconds(clock.now - t0))
    t0 = clock.now
    try runTrue(client, devnull: devnull, configure: vnet)
    networked.append(milliseconds(clock.now - t0))
  }
  report("net_plain", plain)
  report("net_vnet", networked)
}
