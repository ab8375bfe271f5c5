import Foundation
import Testing
import XCIPC

/// `xcsh --dry-run pull`: the pull is one plan line, and its `download_stat` polls and the
/// final `describe_image` are answered by the dry run, not the daemon (which has no such task
/// and would make the script wait for a pull that never started).
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct DryRunPullTests {
  @Test func aDryRunPullIsOnePlanLineAndOnlyReadsReachTheDaemon() throws {
    try withDaemon { daemon in
      let before = try daemon.client().call(ListAllImagesRequest()).manifests.map(\.imageReference)
      // Port 1 on loopback: no registry answers there.
      let ref = "127.0.0.1:1/none/img:1"
      let script = "print (images | length); print (pull \(ref) local:1 | get image_reference)"
      let started = Date()
      // --trace sits below --dry-run: it shows exactly the calls that reach the daemon.
      let (status, out, err) = try DaemonModesTests().xcsh(
        ["--socket", daemon.socket, "--dry-run", "--trace", "-c", script], dir: daemon.dir)
      #expect(status == 0, "\(err)")
      #expect(out == "\(before.count)\n\(ref)\n", "\(out) \(err)")
      let plan = err.split(separator: "\n").filter { $0.hasPrefix("+ ") }
      #expect(plan == ["+ pull_image image=\(ref) rename_reference=local:1"], "\(err)")
      let reached = err.split(separator: "\n").filter { $0.hasPrefix("trace: ") }
        .map { String($0.dropFirst("trace: ".count).prefix { $0 != " " }) }
      #expect(reached == ["list_all_images"], "\(err)")
      #expect(reached.allSatisfy { XCMethods.effect(of: $0) == .read }, "\(reached)")
      // No 500 ms poll waited on a task the daemon never had.
      #expect(Date().timeIntervalSince(started) < 5)
      #expect(try daemon.client().call(ListAllImagesRequest()).manifests.map(\.imageReference) == before)
    }
  }
}
