import Foundation
import Glibc
import Testing
import XCIPC
import XCTestSupport

/// The interactive xcsh on a real terminal against the real xcd.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct REPLDaemonTests {
  let prompt = "[xcd.sock up] >"

  @Test func tabCompletesLiveContainerNamesAndCtrlCStopsARunningContainer() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var r = InstantiateRequest(
        imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]),
        name: "web-1")
      r.mainExitedFd = nil
      _ = try client.call(r)

      let t = try TmuxSession(socket: daemon.socket, xcsh: XCShellObjectTests.xcsh)
      defer { t.close() }
      try t.waitForEditor(prompt)
      try t.type("kill we")
      try t.press("Tab")
      try t.waitFor("completed live name") { $0.contains("> kill web-1") }
      try t.press("Enter")
      try t.waitForEditor(prompt, count: 2)
      let deadline = Date().addingTimeInterval(20)
      while try !client.call(ListContainersRequest()).isEmpty, Date() < deadline { usleep(20_000) }
      #expect(try client.call(ListContainersRequest()).isEmpty)

      // A foreground container gets Ctrl-C: it is stopped and the prompt comes back.
      try t.type("run busybox:latest --name fg -- sleep 1000")
      try t.press("Enter")
      let started = Date().addingTimeInterval(20)
      while try client.call(ListContainersRequest()).isEmpty, Date() < started { usleep(20_000) }
      #expect(try client.call(ListContainersRequest()).map(\.name) == ["fg"])
      try t.press("C-c")
      try t.waitFor("[130] >")
      let gone = Date().addingTimeInterval(20)
      while try !client.call(ListContainersRequest()).isEmpty, Date() < gone { usleep(20_000) }
      #expect(try client.call(ListContainersRequest()).isEmpty)
      try t.type("print after")
      try t.press("Enter")
      try t.waitFor("\nafter\n")
    }
  }
}
