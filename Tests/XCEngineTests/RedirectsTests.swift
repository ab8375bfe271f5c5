import Foundation
import Logging
import Testing
import XCTestSupport

@testable import XCEngine

/// `Redirects` on its own: its checks, its bookkeeping in the state store and the nftables
/// transactions it sends, with a stand-in `nft` that records each one. No root, no nftables.
@Suite("Redirects")
struct RedirectsTests {
  /// A state store and a recording `nft` in a temporary directory.
  final class Fixture {
    let dir: String
    let state: StateStore
    let redirects: Redirects

    init(nftExit: Int = 0) throws {
      dir = try TempState().path
      try FileManager.default.createDirectory(atPath: dir + "/calls", withIntermediateDirectories: true)
      try writeStandInProgram(
        dir + "/nft",
        """
        #!/bin/sh
        # Records the transaction read from stdin (argv is `-f -`), one file per call.
        n=$(ls \(dir)/calls | wc -l)
        cat > \(dir)/calls/$n
        exit \(nftExit)

        """)
      state = try StateStore(path: dir + "/xcd.sqlite")
      redirects = Redirects(
        table: "xcd_unit", nft: dir + "/nft", state: state, logger: Logger(label: "test"))
    }

    /// The transactions `nft` received, in order.
    func calls() throws -> [String] {
      let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/calls")
      return try names.sorted { Int($0)! < Int($1)! }.map {
        try String(contentsOfFile: dir + "/calls/" + $0, encoding: .utf8)
      }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
  }

  static func rule(_ from: Int, to: Int, protocols: [String] = []) -> PortRedirect {
    PortRedirect(
      ifaces: nil, protocols: protocols, addresses: nil, sourcePortStart: from, sourcePortEnd: from,
      destPort: to)
  }

  @Test func validationCompletesAndRejectsWithTheFlagName() throws {
    let ok = try Redirects.validated(Self.rule(8080, to: 80), to: "10.0.0.2", container: "c1")
    #expect(ok.destAddr == "10.0.0.2" && ok.containerID == "c1")
    #expect(ok.protocols == ["tcp", "udp"])  // none given: both, as xc does
    let upper = try Redirects.validated(Self.rule(53, to: 53, protocols: ["UDP"]), to: "10.0.0.2", container: "c1")
    #expect(upper.protocols == ["udp"])

    let proto = #expect(throws: EngineError.self) {
      try Redirects.validated(Self.rule(1, to: 1, protocols: ["icmp"]), to: "10.0.0.2", container: "c")
    }
    #expect(proto?.message == "port redirection (xcsh: -p): unknown protocol icmp")
    #expect(proto?.errno == .invalidArgument)
    for bad in [Self.rule(0, to: 80), Self.rule(8080, to: 0), Self.rule(65535, to: 70000)] {
      let e = #expect(throws: EngineError.self) { try Redirects.validated(bad, to: "10.0.0.2", container: "c") }
      #expect(e?.message.hasPrefix("port redirection (xcsh: -p): bad ports") == true)
    }
    var wide = Self.rule(1000, to: 1000)
    wide.sourcePortEnd = 3000  // more than 1024 ports in one rule
    #expect(throws: EngineError.self) { try Redirects.validated(wide, to: "10.0.0.2", container: "c") }
    var iface = Self.rule(80, to: 80)
    iface.ifaces = ["eth0; flush ruleset"]
    #expect(throws: EngineError.self) { try Redirects.validated(iface, to: "10.0.0.2", container: "c") }
    var address = Self.rule(80, to: 80)
    address.addresses = ["not-an-address"]
    #expect(throws: EngineError.self) { try Redirects.validated(address, to: "10.0.0.2", container: "c") }
  }

  @Test func theTableIsCreatedOnceThenOnlyRefilled() throws {
    let f = try Fixture()
    let a = try Redirects.validated(Self.rule(8080, to: 80, protocols: ["tcp"]), to: "10.0.0.2", container: "a")
    let b = try Redirects.validated(Self.rule(8443, to: 443, protocols: ["tcp"]), to: "10.0.0.3", container: "b")
    try f.redirects.install([a], container: "a", vnetBridge: nil)
    try f.redirects.install([b], container: "b", vnetBridge: nil)
    #expect(try f.redirects.all().map(\.containerID) == ["a", "b"])

    let calls = try f.calls()
    try #require(calls.count == 2)
    // The first transaction declares, deletes and re-creates the table with its chains; the
    // second only flushes and refills the two rule chains (creating chains costs the kernel).
    #expect(calls[0].hasPrefix("table ip xcd_unit\ndelete table ip xcd_unit\n"))
    #expect(calls[0].contains("dport 8080 dnat to 10.0.0.2:80"))
    #expect(calls[1].hasPrefix("flush chain ip xcd_unit prerouting\n"))
    #expect(!calls[1].contains("delete table"))
    #expect(calls[1].contains("dport 8080 dnat to 10.0.0.2:80") && calls[1].contains("dport 8443 dnat to 10.0.0.3:443"))

    f.redirects.removeTable()
    let last = try f.calls().last
    #expect(last == "table ip xcd_unit\ndelete table ip xcd_unit\n")
  }

  @Test func aRuleNftablesRefusesIsNotKept() throws {
    let f = try Fixture(nftExit: 1)
    let a = try Redirects.validated(Self.rule(8080, to: 80), to: "10.0.0.2", container: "a")
    let error = #expect(throws: EngineError.self) { try f.redirects.install([a], container: "a", vnetBridge: nil) }
    #expect(error?.message.contains("update nftables table xcd_unit") == true)
    // The stored rule (and the container's networking rows) went with the failure: a later
    // rewrite of the table must not resurrect it.
    #expect(try f.redirects.all().isEmpty)
  }
}
