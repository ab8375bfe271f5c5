import XCIPC
import XCShell

/// `network create|list|rm|ensure` (`networks`): the daemon's managed networks.
enum NetworkCommands {
  static func all(_ s: DaemonSession) -> [any Command] {
    [create(s), list(s, name: "network list"), list(s, name: "networks"), remove(s), ensure(s), tag(s), commitTag(s)]
  }

  static let createParameters: [Parameter] = [
    .required("name", .string, "The network's name."),
    .optional("subnet", .string, "The subnet (`10.1.0.0/24`); without one only explicit addresses are accepted."),
    .optional("start", .string, "The first address handed out (default: the subnet's start)."),
    .optional("end", .string, "The last address handed out (default: the subnet's end)."),
    .named("bridge", .string, "The bridge that VNET containers' interfaces join (Linux xcd: without it and `--alias`, one it names and makes)."),
    .named("alias", .string, "The interface that non-VNET containers' addresses are added to."),
    .named("default-router", .string, "The default route given to containers (Linux xcd: with a bridge it makes, the subnet's first host address)."),
  ]

  static func request(_ call: Call) throws -> CreateNetworkRequest {
    CreateNetworkRequest(
      name: try call.require("name").asString(), aliasIface: try call.string("alias"),
      bridgeIface: try call.string("bridge"), subnet: try call.string("subnet"), startAddr: try call.string("start"),
      endAddr: try call.string("end"), defaultRouter: try call.string("default-router"))
  }

  static func create(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "network create", category: .objects, summary: "Create a network (IPC `create_network`).",
        parameters: createParameters,
        examples: [
          Example("A private network", "network create backend 10.1.0.0/24 --bridge xcbr0"),
          Example("Bridge and router picked by the Linux xcd", "network create appnet 10.77.0.0/24"),
        ],
        details: "Returns the network object (the daemon's `list_networks` record).")
    ) { call, _ in
      let r = try request(call)
      _ = try s.call(r, at: call.head)
      return .value(try find(s, r.name, at: call.head) ?? .null)
    }
  }

  static func networks(_ s: DaemonSession, at span: Span) throws -> [NetworkInfo] {
    try s.call(ListNetworksRequest(), at: span).networkInfo
  }

  static func find(_ s: DaemonSession, _ name: String, at span: Span) throws -> Value? {
    try networks(s, at: span).first { $0.name == name }.map { try DaemonSession.value($0, as: .network) }
  }

  static func list(_ s: DaemonSession, name: String) -> Builtin {
    Builtin(
      Signature(
        name, category: .objects, summary: "The networks, as network objects (IPC `list_networks`).",
        examples: [Example("Subnets by name", "networks | select name subnet")])
    ) { call, _ in
      .value(.list(try networks(s, at: call.head).map { try DaemonSession.value($0, as: .network) }, call.head))
    }
  }

  static func remove(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "network rm", category: .objects,
        summary: "Remove networks no container uses (IPC extension `xcsh.remove_network`; xc has none).",
        parameters: [.rest("networks", .object(.network), "Names or network objects (or piped in).")])
    ) { call, input in
      for t in try ObjectArgs.targets(call, input, what: "a network") {
        let name = try ObjectArgs.name(t, "network", at: call.head)
        // A network object is removed from the daemon it came from, each on its own host.
        try DaemonRoute.withHost(of: t) {
          try ObjectArgs.about(.network, name, at: call.head, exists: { try networks(s, at: call.head).contains { $0.name == name } }) {
            _ = try s.call(RemoveNetworkRequest(name: name), at: call.head)
          }
        }
      }
      return .empty
    }
  }

  static func ensure(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "network ensure", category: .objects,
        summary: "A network as described, created or replaced only when needed: `{action: created|unchanged|replaced, object}`.",
        parameters: createParameters,
        details: "An existing network with other settings is removed and created again (which fails while containers use it).")
    ) { call, _ in
      let r = try request(call)
      return .value(
        try ObjectArgs.ensure(
          existing: try networks(s, at: call.head).first(where: { $0.name == r.name }),
          matches: { matches($0, r) }, object: { try DaemonSession.value($0, as: .network) },
          remove: { _ = try s.call(RemoveNetworkRequest(name: r.name), at: call.head) },
          create: {
            _ = try s.call(r, at: call.head)
            return try find(s, r.name, at: call.head) ?? .null
          }))
    }
  }

  /// Whether an existing network has every setting the request gives (unset ones are free).
  static func matches(_ n: NetworkInfo, _ r: CreateNetworkRequest) -> Bool {
    func ok(_ want: String?, _ have: String?) -> Bool { want == nil || want == have }
    return ok(r.subnet, n.subnet) && ok(r.startAddr, n.startAddr) && ok(r.endAddr, n.endAddr)
      && ok(r.aliasIface, n.aliasIface) && ok(r.bridgeIface, n.bridgeIface)
  }

  static func tag(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "network tag", category: .objects,
        summary: "Put a container in a network group: every member's /etc/hosts names the others (IPC `add-netgroup`).",
        parameters: [
          .required("network", .object(.network), "The group (a network the container has an address on)."),
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .switch("no-commit", "Do not rewrite the members' hosts files yet (see `network commit-tag`)."),
        ])
    ) { call, input in
      let network = try call.require("network")
      let group = try ObjectArgs.name(network, "network", at: call.head)
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      // The group and the container are on one daemon: the one their objects came from.
      try DaemonRoute.withHost(ofAll: [network, target], command: "network tag", at: call.head) {
        try ObjectArgs.withContainer(s, target, at: call.head) { ref in
          _ = try s.call(
            AddNetgroupRequest(
              netgroupName: group, containerName: ref, autoCreateNetgroup: true, commitImmediately: !call.has("no-commit")),
            at: call.head)
        }
      }
      return .empty
    }
  }

  static func commitTag(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "network commit-tag", category: .objects,
        summary: "Rewrite the hosts files of a network group's members (IPC `commit_netgroup`).",
        parameters: [.required("network", .object(.network), "The group.")])
    ) { call, _ in
      let network = try call.require("network")
      let group = try ObjectArgs.name(network, "network", at: call.head)
      _ = try DaemonRoute.withHost(of: network) { try s.call(CommitNetgroupRequest(netgroupName: group), at: call.head) }
      return .empty
    }
  }
}
