import XCIPC
import XCShell

/// `rdr add` and `rdr list`: port redirections to a container's main address.
enum RdrCommands {
  static func all(_ s: DaemonSession) -> [any Command] { [add(s), list(s), showRules(s)] }

  static func showRules(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "rdr show-rules", category: .objects, summary: "Every container's port redirections (IPC `list_rdr_rules`).")
    ) { call, _ in
      .value(.list(try s.call(ListRdrRulesRequest(), at: call.head).map(PortCommand.readable), call.head))
    }
  }

  static func add(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "rdr add", category: .objects,
        summary: "Publish ports of a running container (IPC `rdr`, once per `-p`).",
        parameters: [
          .optional("container", .object(.container), "A name, an id (or unique prefix) or a container object (or piped in)."),
          .named("publish", .any, short: "p", "`[IFACE,…|][ADDR:]HOSTPORT[-END]:PORT[/tcp,udp]`; repeatable."),
        ],
        examples: [Example("Publish 8080 to port 80", "rdr add web -p 8080:80/tcp")],
        details: "Returns the redirections as the daemon echoes them.")
    ) { call, input in
      let target = try ObjectArgs.target(call, input, "container", what: "a container")
      var rules: [PortRedirection] = []
      for t in try ObjectArgs.strings(call, "publish") {
        do { rules.append(try FlagSyntax.publish(t)) } catch { throw ObjectArgs.syntax(error, call) }
      }
      guard !rules.isEmpty else {
        throw ShellError(.argsMissing, "`rdr add` needs at least one `-p SPEC`", at: call.span)
      }
      let echoed = try ObjectArgs.withContainer(s, target, at: call.head) { ref in
        try rules.map { try s.call(RdrRequest(name: ref, redirection: $0), at: call.head).redirection }
      }
      return .value(.list(try echoed.map { try DaemonSession.value($0, as: nil) }, call.head))
    }
  }

  static func list(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "rdr list", category: .objects,
        summary: "Port redirections (IPC `list_rdr_rules`): every rule, or those of one container.",
        parameters: [.optional("container", .object(.container), "A name, an id or a container object; none for all rules.")],
        details: """
          xc's `rdr list NAME` calls `list_site_rdr`, which xc's daemon never registered (spec \
          §2), so a container's rules are the daemon-wide rules whose `dest_addr` is one of its \
          addresses. `source_port` is an int, or `START-END` for a range.
          """)
    ) { call, input in
      let piped = try input.collect()
      let target = call.value("container") ?? (piped.isNull ? nil : piped)
      let rules = try target.map { t in
        try ObjectArgs.withContainer(s, t, at: call.head) { ref in try PortCommand.containerRules(s, ref, call) }
      } ?? s.call(ListRdrRulesRequest(), at: call.head)
      return .value(.list(try rules.map(PortCommand.readable), call.head))
    }
  }
}
