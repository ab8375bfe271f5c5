import XCIPC
import XCShell

/// `rm CONTAINER…`: forget ended containers the daemon keeps (their record and main log), as
/// `docker rm` does for exited ones. A live container is refused: stop or kill it first.
enum RemoveContainerCommand {
  static func make(_ s: DaemonSession) -> Builtin {
    Builtin(
      Signature(
        "rm", category: .objects,
        summary: "Forget ended containers: their kept record and main log (IPC extension `xcsh.remove_container`).",
        parameters: [
          .rest("containers", .object(.container), "Ended containers: ids, names (every ended one with that name) or objects; or piped in.")
        ],
        examples: [
          Example("Forget one", "rm crash1"),
          Example("Forget every ended container", "ps --all | where status == exited | rm"),
        ],
        details: "A running container is an error (the daemon answers EBUSY); so is a name no ended container has. The program `rm` is still `^rm`.")
    ) { call, input in
      // An empty pipe is a no-op, so clean-up scripts can run twice (as `kill`).
      for t in try ObjectArgs.targets(call, input, what: "a container (a name, an id or an object)") {
        let ref = try ObjectArgs.containerRef(t, at: call.head)
        // A container object from another host is forgotten there.
        _ = try DaemonRoute.withHost(of: t) {
          try s.callExtension(RemoveContainerRequest(name: ref), feature: "`rm`", at: call.head)
        }
      }
      return .empty
    }
  }
}
