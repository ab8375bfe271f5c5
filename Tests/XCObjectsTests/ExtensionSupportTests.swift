import Testing
import XCIPC
import XCShell

/// Features the real xcd lacks are refused clearly: a daemon that answers an `xcsh.*` method
/// as xc does for an unknown one ("ipc method … not found") gives `daemon.unsupported`, "not
/// supported by this daemon", never a silent fallback or a "not found" object.
@Suite struct ExtensionSupportTests {
  @Test func psAllAndRmOnADaemonWithoutTheExtensionsSayNotSupported() throws {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    for (code, method) in [("ps --all", "xcsh.list_ended"), ("rm crash1", "xcsh.remove_container")] {
      do {
        _ = try xcsh(code, fake)
        Issue.record("\(code) succeeded against a daemon without \(method)")
      } catch let e as ShellError {
        #expect(e.code.rawValue == "daemon.unsupported", "\(code): \(e)")
        #expect(e.message.contains("not supported by this daemon") && e.message.contains(method), "\(e.message)")
      }
    }
    // `ps` alone stays xc's list_containers.
    _ = try xcsh("ps", fake)
    #expect(fake.methods.filter { $0 == "list_containers" }.count == 2)
  }
}
