import Foundation
import Testing
import XCIPC
import XCTestSupport

/// Progress lines of `image import`, `push` and `pull` against the real xcd and a loopback
/// registry: drawn on a terminal (xcsh in tmux), absent when stderr is a pipe.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ProgressDisplayTests {
  @Test func progressLinesOnATerminalOnly() throws {
    let registry = try LoopbackRegistry()
    defer {
      registry.stop()
      #expect(!registry.isRunning, "registry process left running")
    }
    let archive = try Fixtures.archive()
    let remote = "\(registry.host)/progress/app"
    try withDaemon { daemon in
      let t = try TmuxSession(socket: daemon.socket, xcsh: XCShellObjectTests.xcsh)
      defer { t.close() }
      try t.waitForEditor("[xcd.sock up] >")
      try t.type("image import \(archive) app:1 | ignore; login \(registry.host) -u u -p p --insecure")
      try t.press("Enter")
      try t.waitFor("import line") { $0.contains("importing \(archive) (") && $0.contains("): done\n") }
      try t.type("push app:1 \(remote):1 --insecure; image rm app:1; pull \(remote):1 | ignore; print pulled")
      try t.press("Enter")
      let screen = try t.waitFor("\npulled\n", timeout: 30)
      #expect(screen.contains("\(remote):1: pushed\n"), "\(screen)")
      #expect(screen.contains("\(remote):1: done\n"), "\(screen)")
      #expect(try daemon.client().call(DescribeImageRequest(imageReference: "\(remote):1")).imageReference == "\(remote):1")

      // The same through pipes: nothing but the script's own output.
      let (status, out, err) = try ObjectCommandsE2ETests().xcsh(
        "image import \(archive) app:2 | ignore; push app:2 \(remote):2 --insecure; pull \(remote):2 | get image_reference",
        daemon)
      #expect(status == 0, "\(err)")
      #expect(out == "\(remote):2\n")
      #expect(err.isEmpty, "progress on a pipe: \(err)")
    }
  }
}
