import XCIPC
import XCShell

/// `stop CONTAINER… [--time 10s]`: SIGTERM, a grace period, then SIGKILL (`docker stop`), through
/// the extension `xcsh.stop`; waits until each container is torn down, as `kill` does.
enum StopCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "stop", category: .objects,
        summary: "Stop containers: SIGTERM, then SIGKILL after a grace period (IPC extension `xcsh.stop`).",
        parameters: [
          .rest("containers", .object(.container), "Containers to stop: names, ids or objects; or piped in."),
          .named("time", .duration, "How long main may take to end after SIGTERM before SIGKILL.", default: Value(.duration(10_000_000_000))),
          .named("timeout", .duration, "How long to wait for the teardown after the grace period.", default: Value(.duration(30_000_000_000))),
        ],
        examples: [
          Example("Give a server 30 seconds to finish", "stop web --time 30s"),
          Example("Stop everything from an image", "ps | where image_reference =~ busybox | stop"),
        ],
        details: "xc-init passes SIGTERM to main (to every process once main is gone). `kill` uses the daemon's own grace period (xcd's `stop_grace_seconds`).")
    ) { call, input in
      let targets = try ObjectArgs.targets(call, input, what: "a container (a name, an id or an object)")
      let grace = try call.duration("time") ?? 10_000_000_000
      guard grace >= 0, grace <= 3_600_000_000_000 else {
        throw ShellError(.argsValue, "`--time`: a grace period from 0s to 1h", at: call.span)
      }
      var refs: [String] = []
      for t in targets {
        try ObjectArgs.withContainer(s, t, at: call.head) { ref in
          _ = try s.callExtension(
            StopContainerRequest(name: ref, graceMs: Int(grace / 1_000_000)), feature: "`stop`", at: call.head)
          refs.append(ref)
        }
      }
      // In a dry run nothing was stopped, so there is no teardown to wait for.
      if !refs.isEmpty, !s.modes.dryRun {
        try ObjectCommands.waitTornDown(refs, s, call, timeout: grace + (try call.duration("timeout") ?? 30_000_000_000))
      }
      return .empty
    }
  }
}
