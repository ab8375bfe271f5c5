import XCIPC
import XCShell

/// `port C`: a container's published ports as records, one per host address and protocol,
/// from the daemon's redirection rules (IPC `list_rdr_rules`) whose destination is one of
/// the container's addresses; and the readable form of a rule's port that `rdr list` shows.
enum PortCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "port", category: .objects,
        summary: "A container's published ports: `{host_port, container_port, protocol, host_address, interfaces, container_address}` (IPC `list_rdr_rules`).",
        parameters: [.optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in).")],
        examples: [Example("Where port 80 of web is published", "port web | where container_port == 80 | get host_port")],
        details: "`host_port` is an int, or `START-END` for a range. `host_address` is `0.0.0.0` when the rule takes any address of `interfaces` (null: the daemon's external interfaces).")
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      let rules = try ObjectArgs.withContainer(s, target, at: call.head) { ref in try containerRules(s, ref, call) }
      var rows: [Value] = []
      for rule in rules {
        for address in rule.addresses.flatMap({ $0.isEmpty ? nil : $0 }) ?? ["0.0.0.0"] {
          for proto in rule.proto {
            rows.append(
              Value(
                .record(
                  Record([
                    ("host_port", hostPort(rule.sourcePort)),
                    ("container_port", Value(.int(Int64(rule.destPort)))),
                    ("protocol", Value(.string(proto.rawValue.lowercased()))),
                    ("host_address", Value(.string(String(address.split(separator: "/").first ?? Substring(address))))),
                    ("interfaces", rule.ifaces.map { Value(.list($0.map { Value(.string($0)) })) } ?? Value(.null)),
                    ("container_address", rule.destAddr.map { Value(.string($0)) } ?? Value(.null)),
                  ])), call.head))
          }
        }
      }
      return .value(Value(.list(rows), call.head))
    }
  }

  /// The daemon-wide rules whose destination is one of the container's addresses (xc's
  /// `list_site_rdr` was never registered in its daemon, so this is how a container's are found).
  static func containerRules(_ s: DaemonSession, _ ref: String, _ call: Call) throws -> [PortRedirection] {
    let all = try s.call(ListRdrRulesRequest(), at: call.head)
    let c = try s.call(ShowContainerRequest(id: ref), at: call.head).runningContainer
    return rules(all, of: c)
  }

  /// The rules whose destination is one of the container's addresses: xc tags its rules with the
  /// container's id but `list_rdr_rules` does not say it, and fills `dest_addr` with the main
  /// address (xcd/src/context.rs `with_host_info`).
  static func rules(_ rules: [PortRedirection], of c: ContainerManifest) -> [PortRedirection] {
    // Loopback allocations (`lo0` in xc's records) are every container's: never a join key.
    let allocated = c.ipAlloc.filter { $0.interface != "lo0" && $0.interface != "lo" }.flatMap(\.addresses)
    let mine = Set((allocated + [c.mainAddress].compactMap { $0 }).map(host).filter { !$0.isEmpty })
    guard !mine.isEmpty else { return [] }
    return rules.filter { r in r.destAddr.map { mine.contains(host($0)) } ?? false }
  }

  /// An address without its prefix length.
  static func host(_ cidr: String) -> String { String(cidr.split(separator: "/").first ?? "") }

  /// A container's published ports as `docker ps` writes them, one per host address and
  /// protocol: `8080->80/tcp`, `127.0.0.1:8080->80/tcp`, `8000-8010->80/udp` (no address when the
  /// rule takes any address of its interfaces).
  static func published(_ rules: [PortRedirection]) -> [String] {
    var out: [String] = []
    for rule in rules {
      let source =
        switch rule.sourcePort {
        case .single(let p): "\(p)"
        case .range(let a, let b): "\(a)-\(b)"
        }
      let addresses = rule.addresses.flatMap { $0.isEmpty ? nil : $0.map { host($0) + ":" } } ?? [""]
      for address in addresses {
        for proto in rule.proto { out.append("\(address)\(source)->\(rule.destPort)/\(proto.rawValue.lowercased())") }
      }
    }
    return out
  }

  /// A rule's host port as a user reads it: `8080`, or `"8080-8090"` for a range (xc's
  /// client sends the end port as a range's second number).
  static func hostPort(_ port: PortNum) -> Value {
    switch port {
    case .single(let p): Value(.int(Int64(p)))
    case .range(let a, let b): Value(.string("\(a)-\(b)"))
    }
  }

  /// A rule as a record with `source_port` readable (int or `START-END`) instead of xc's
  /// tagged `{Single: N}`.
  static func readable(_ rule: PortRedirection) throws -> Value {
    let v = try DaemonSession.value(rule, as: nil)
    guard var fields = v.recordValue else { return v }
    fields["source_port"] = hostPort(rule.sourcePort)
    return Value(.record(fields), v.span)
  }
}
