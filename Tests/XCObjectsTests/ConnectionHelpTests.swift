import Testing
import XCIPC
import XCShell

@testable import XCObjects

/// The help line under a failed connection: a refused client (the socket's mode, or the
/// daemon's peer check) is told who may use the socket; "start xcd" only when none answers.
struct ConnectionHelpTests {
  @Test func refusedConnectionsSayWhoMayUseTheSocket() {
    let refusals = [
      IPCError(.permissionDenied, "permission denied connecting to /run/xc.sock: only root and members of group xc (gid 900) may use it"),
      IPCError(.permissionDenied, method: "info", "the daemon at /run/xc.sock refused the connection: permission denied for uid 1000"),
    ]
    for error in refusals {
      let e = DaemonSession.shellError(error, at: .unknown, path: "/run/xc.sock")
      #expect(e.help?.contains("root and members of its socket group") == true, "\(e)")
      #expect(e.help?.contains("start xcd") == false, "\(e)")
      // The daemon's or the client's own reason stays in the message.
      #expect(e.message.contains("permission denied"), "\(e)")
    }
    let none = DaemonSession.shellError(IPCError(.noDaemon, "no daemon is listening at /run/xc.sock"), at: .unknown, path: "/run/xc.sock")
    #expect(none.help?.hasPrefix("start xcd") == true, "\(none)")
  }
}
