import Foundation
import Testing

@testable import XCEngine

/// Address arithmetic, allocation order and the generated nftables script: no root needed.
@Suite("Network units")
struct NetworkUnitTests {
  @Test func cidrParsingAndArithmetic() throws {
    let c = try IPv4CIDR(parsing: "10.1.2.3/24", field: "subnet")
    #expect(c.network.description == "10.1.2.0" && c.broadcast.description == "10.1.2.255")
    #expect(c.contains(IPv4Address("10.1.2.200")!) && !c.contains(IPv4Address("10.1.3.1")!))
    #expect(try IPv4CIDR(parsing: "10.0.0.7", field: "x").prefix == 32)
    let bad = #expect(throws: EngineError.self) { try IPv4CIDR(parsing: "10.0.0.300/8", field: "ipreq[0].ip") }
    #expect(bad?.message.contains("ipreq[0].ip") == true)
    let v6 = #expect(throws: EngineError.self) { try IPv4CIDR(parsing: "fd00::1/64", field: "subnet") }
    #expect(v6?.message.contains("IPv6") == true)
    #expect(throws: EngineError.self) { try IPv4CIDR(parsing: "10.0.0.1/33", field: "subnet") }
  }

  @Test func allocationSkipsReservedAndWrapsAfterTheLastLease() throws {
    var net = Network(name: "n", subnet: "10.9.0.0/29", default_router: "10.9.0.1")
    // .0 network, .1 router, .7 broadcast: .2 comes first.
    #expect(try Networking.pickAddress(net, used: []) == "10.9.0.2")
    #expect(try Networking.pickAddress(net, used: ["10.9.0.2", "10.9.0.3"]) == "10.9.0.4")
    net.last_addr = "10.9.0.5"
    #expect(try Networking.pickAddress(net, used: []) == "10.9.0.6")
    net.last_addr = "10.9.0.6"
    #expect(try Networking.pickAddress(net, used: []) == "10.9.0.2")  // wrapped
    #expect(try Networking.pickAddress(net, used: ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"]) == nil)
    net.start_addr = "10.9.0.4"
    net.end_addr = "10.9.0.4"
    net.last_addr = nil
    #expect(try Networking.pickAddress(net, used: []) == "10.9.0.4")
    #expect(try Networking.pickAddress(net, used: ["10.9.0.4"]) == nil)
    #expect(throws: EngineError.self) { try Networking.pickAddress(Network(name: "x"), used: []) }
  }

  @Test func interfaceNamesAreChecked() throws {
    try InterfaceName.validate("xcbr0", field: "f")
    try InterfaceName.validate("br-web.1", field: "f")
    for bad in ["", "a b", "x\nlink del eth0", "sixteen-chars-xx", "..", "a\"b"] {
      #expect(throws: EngineError.self) { try InterfaceName.validate(bad, field: "f") }
    }
  }

  @Test func nftablesScript() {
    var r = PortRedirect(
      ifaces: ["eth1"], protocols: ["tcp"], addresses: nil, sourcePortStart: 8080,
      sourcePortEnd: 8081, destPort: 80)
    r.destAddr = "10.9.0.2"
    let t = NFTables(table: "xcd_test")
    let create = t.ruleset([r])
    #expect(create.hasPrefix("table ip xcd_test\ndelete table ip xcd_test\ntable ip xcd_test {\n"))
    #expect(create.contains("type nat hook output priority -100;"))
    #expect(create.contains("ct status dnat masquerade"))
    let refill = t.refill([r])
    #expect(refill.hasPrefix("flush chain ip xcd_test prerouting\nflush chain ip xcd_test output\n"))
    #expect(refill.contains(
      "add rule ip xcd_test prerouting iifname { \"eth1\" } fib daddr type local tcp dport 8081 dnat to 10.9.0.2:81\n"))
    #expect(refill.contains("add rule ip xcd_test output fib daddr type local tcp dport 8080 dnat to 10.9.0.2:80\n"))
    r.ifaces = []
    r.addresses = ["192.0.2.1/32"]
    #expect(!t.refill([r]).contains("prerouting iifname"))
    #expect(t.refill([r]).contains("output ip daddr { 127.0.0.0/8, 192.0.2.1/32 } tcp dport 8080"))
  }
}
