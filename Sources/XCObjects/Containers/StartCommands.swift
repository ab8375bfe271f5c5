import Glibc
import XCIPC
import XCShell

/// `start` and `restart`, in xc's model: a container's resources (rootfs, addresses,
/// redirections) are released when it ends, so only a container that has not ended can run
/// main again. `start` runs main of a created container (as `run-main`); `restart` stops main
/// and starts it again in the same container (extension `xcsh.restart`).
enum StartCommands {
  static func start(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "start", category: .objects,
        summary: "Start the main process of created containers (IPC `run_main`); a running one is left as it is.",
        parameters: [
          .rest("containers", .object(.container), "Names, ids or container objects; or piped in."),
        ],
        examples: [Example("Create, then start", "let c = (create busybox:latest --name w -- sleep 100); start $c")],
        details: """
          An ended container cannot be started again: xc gives back its rootfs, addresses and \\
          redirections when it ends (only its record and log are kept). Run it again, or give it \\
          `--restart` so that the daemon starts its main again in the same container. Returns the \\
          container objects.
          """)
    ) { call, input in
      let targets = try ObjectArgs.targets(call, input, what: "a container (a name, an id or an object)")
      var out: [Value] = []
      for t in targets {
        // Every call about a container object goes to its host (show, run_main, show again).
        try DaemonRoute.withHost(of: t) {
          let shown = try ObjectArgs.withContainer(s, t, at: call.head) { ref in
            try s.call(ShowContainerRequest(id: ref), at: call.head)
          }
          let m = shown.runningContainer
          switch ObjectArgs.status(m, dead: shown.containerDead) {
          case "created":
            let started = try ObjectArgs.eventfd(call)
            defer { close(started.rawValue) }
            _ = try s.call(RunMainRequest(name: m.id, notify: FDRef(started.fileDescriptor)), at: call.head)
            if !s.modes.dryRun {
              while try !TerminalRelay.waitReadable(started.rawValue, call) {}
            }
          case "running", "restarting":
            break
          default:
            throw ShellError(
              .containerEnded,
              "container `\(m.name)` has ended and cannot be started again: its rootfs, addresses and redirections were released when it ended (xc keeps only its record and log)",
              at: call.head, help: "run it again (`run --replace …`), or run it with `--restart` so the daemon starts main again")
          }
          out.append(ObjectArgs.brief(try ObjectArgs.show(s, .string(m.id), at: call.head)))
        }
      }
      return .value(out.count == 1 ? out[0] : Value(.list(out), call.head))
    }
  }

  static func restart(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "restart", category: .objects,
        summary: "Stop main (SIGTERM, grace, SIGKILL) and start it again in the same container (IPC extension `xcsh.restart`).",
        parameters: [
          .rest("containers", .object(.container), "Names, ids or container objects; or piped in."),
          .named("time", .duration, "How long main may take to end after SIGTERM before SIGKILL.", default: Value(.duration(10_000_000_000))),
        ],
        examples: [Example("Restart a server", "restart web --time 5s")],
        details: """
          The container keeps its id, name, rootfs, addresses, published ports, volumes and log; \\
          `restarts` is not counted (it counts the policy's restarts). Only a detached container \\
          (`run -d`) without `-t` or `--persist` can be restarted: the daemon must hold main's \\
          output. Returns the container objects once main runs again.
          """)
    ) { call, input in
      let targets = try ObjectArgs.targets(call, input, what: "a container (a name, an id or an object)")
      let grace = try call.duration("time") ?? 10_000_000_000
      guard grace >= 0, grace <= 3_600_000_000_000 else {
        throw ShellError(.argsValue, "`--time`: a grace period from 0s to 1h", at: call.span)
      }
      var out: [Value] = []
      for t in targets {
        let id = try ObjectArgs.withContainer(s, t, at: call.head) { ref -> String in
          _ = try s.callExtension(
            RestartContainerRequest(name: ref, graceMs: Int(grace / 1_000_000)), feature: "`restart`", at: call.head)
          return ref
        }
        out.append(ObjectArgs.brief(try DaemonRoute.withHost(of: t) { try ObjectArgs.show(s, .string(id), at: call.head) }))
      }
      return .value(out.count == 1 ? out[0] : Value(.list(out), call.head))
    }
  }
}
