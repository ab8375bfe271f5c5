import Foundation
import Glibc
import Testing
import XCIPC

/// `xcsh --ephemeral` with every kind of object a script can make — a network (with the bridge
/// xcd creates for it), a volume, a VNET container holding a lease and mounting the volume, a
/// committed image — against the real xcd: a script that fails, and one that gets SIGTERM,
/// leave the daemon's lists as they found them and no bridge, veth or rule behind.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct EphemeralObjectsTests {
  let modes = DaemonModesTests()

  /// What the daemon lists: networks, volumes, images, containers.
  struct Objects: Equatable, CustomStringConvertible {
    var networks: [String]
    var volumes: [String]
    var images: [String]
    var containers: [String]

    static func of(_ client: XCClient) throws -> Objects {
      Objects(
        networks: try client.call(ListNetworksRequest()).networkInfo.map(\.name).sorted(),
        volumes: try client.call(ListVolumesRequest()).keys.sorted(),
        images: try client.call(ListAllImagesRequest()).manifests.map(\.imageReference).sorted(),
        containers: try client.call(ListContainersRequest()).map(\.name).sorted())
    }

    var description: String {
      "networks \(networks), volumes \(volumes), images \(images), containers \(containers)"
    }
  }

  /// The script: every kind of object, then `ending` (a failure, or a wait for a signal).
  func script(_ net: NetworkTests.TestNet, tag: String, ending: String) -> String {
    """
    network ensure \(net.name) \(net.subnet) --bridge \(net.bridge) --default-router \(net.router) | ignore
    volume ensure vol-\(tag) | ignore
    let c = (run busybox:latest --vnet --network \(net.name) -v vol-\(tag):/data -d --name c-\(tag) -- sleep 1000)
    exec $c -- sh -c 'echo kept > /data/f'
    commit $c img-\(tag):1 | ignore
    image tag img-\(tag):1 img-\(tag):2 | ignore
    image tag busybox:latest busybox:latest | ignore
    print (networks | where name == '\(net.name)' | length) (volumes | where name == 'vol-\(tag)' | length) (images | where image_reference == 'img-\(tag):1' | length) (ps | length)
    \(ending)
    """
  }

  @Test func aFailingScriptLeavesNoNetworkVolumeContainerOrImage() throws {
    let net = NetworkTests.TestNet("ephf", base: 223)
    try NetworkTests().withNetworkDaemon(net) { daemon, client in
      let before = try Objects.of(client)
      let (status, out, err) = try modes.xcsh(
        ["--socket", daemon.socket, "--ephemeral", "-c", script(net, tag: "f", ending: "error make 'boom'")],
        dir: daemon.dir)
      #expect(status == 1, "\(err)")
      // Each object existed while the script ran.
      #expect(out == "1\n1\n1\n1\n", "\(out) \(err)")
      #expect(err.contains("boom"), "\(err)")
      #expect(
        err.contains("--ephemeral removed image img-f:2, image img-f:1, container c-f")
          && err.contains("volume vol-f, network \(net.name)"), "\(err)")
      #expect(!err.contains("--ephemeral: cannot remove"), "\(err)")
      #expect(try Objects.of(client) == before)
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"), "bridge left")
    }
  }

  @Test func aScriptStoppedBySIGTERMLeavesNothing() throws {
    let net = NetworkTests.TestNet("ephs", base: 223)
    try NetworkTests().withNetworkDaemon(net) { daemon, client in
      let before = try Objects.of(client)
      let run = try modes.start(
        ["--socket", daemon.socket, "--ephemeral", "-c", script(net, tag: "s", ending: "print ready; sleep 100s")],
        dir: daemon.dir)
      try run.waitFor("ready")
      let during = try Objects.of(client)
      #expect(during.networks.contains(net.name) && during.volumes == before.volumes + ["vol-s"], "\(during)")
      #expect(during.containers == ["c-s"] && during.images.contains("img-s:1"), "\(during)")
      kill(run.process.processIdentifier, SIGTERM)
      #expect(try run.wait(seconds: 60) == 143, "\(run.stderr)")
      #expect(run.stderr.contains("interrupted by SIGTERM"), "\(run.stderr)")
      #expect(!run.stderr.contains("--ephemeral: cannot remove"), "\(run.stderr)")
      #expect(try Objects.of(client) == before)
      #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(net.bridge)"), "bridge left")
    }
  }
}
