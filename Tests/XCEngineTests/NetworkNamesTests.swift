import Testing

@testable import XCEngine

/// Network and interface names: the rules the daemon applies to `create_network` and every
/// method that names a network.
@Suite struct NetworkNamesTests {
  func message(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as EngineError { return e.message } catch { return "\(error)" }
    return nil
  }

  @Test func networkNames() {
    for good in ["net0", "backend", "a_b-c", "0", String(repeating: "n", count: 15)] {
      #expect(message { try Names.network(good, field: "create_network: name") } == nil, "\(good)")
    }
    for bad in ["", "a/b", "a b", "a.b", "..", "-x", "_x", "net\n", "é", String(repeating: "n", count: 16)] {
      let m = message { try Names.network(bad, field: "create_network: name") }
      #expect(m?.hasPrefix("create_network: name: bad name") == true, "\(bad): \(m ?? "accepted")")
    }
  }

  @Test func interfaceNames() {
    for good in ["xcbr0", "br-web.1", "eth0", "a_b", String(repeating: "i", count: 15)] {
      #expect(message { try Names.interface(good, field: "create_network: bridge_iface") } == nil, "\(good)")
    }
    for bad in ["", ".", "..", "br 0", "br/0", "br;x", "br0\n", "é", String(repeating: "i", count: 16)] {
      let m = message { try Names.interface(bad, field: "create_network: bridge_iface") }
      #expect(
        m?.hasPrefix("create_network: bridge_iface: bad interface name") == true, "\(bad): \(m ?? "accepted")")
    }
    // The engine's own call sites go through the same rule.
    #expect(message { try InterfaceName.validate("br 0", field: "f") }?.hasPrefix("f: bad interface name") == true)
  }
}
