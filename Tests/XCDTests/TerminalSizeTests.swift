import Foundation
import Glibc
import Testing
import XCIPC
import XCTestSupport

/// The window size of the terminal xcsh runs in reaches the container's pty (`xcsh.resize`):
/// at the start of `run -it`, `exec -t` and `attach`, and after each resize of that terminal,
/// with SIGWINCH for the container's process. A real terminal (tmux), the real xcd and runc.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct TerminalSizeTests {
  @Test func runExecAndAttachFollowTheWindowSize() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let dir = NSTemporaryDirectory() + "xcsh-winsize-" + UUID().uuidString
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let xcsh = "'\(XCShellObjectTests.xcsh)' --socket '\(daemon.socket)'"

      let run = try WindowSizeCheck.session(in: dir, "run", xcsh: xcsh, "run -it busybox:latest -- sh -c '\(WindowSizeCheck.loop)'")
      defer { run.close() }
      try WindowSizeCheck.expectFollowed(run)
      try WindowSizeCheck.end(run)

      let exec = try WindowSizeCheck.session(
        in: dir, "exec", xcsh: xcsh,
        "let c = (run -d busybox:latest --name ws-exec -- sleep 1000); defer { kill $c }; exec -t $c -- sh -c '\(WindowSizeCheck.loop)'")
      defer { exec.close() }
      try WindowSizeCheck.expectFollowed(exec)
      try WindowSizeCheck.end(exec)

      let attach = try WindowSizeCheck.session(
        in: dir, "attach", xcsh: xcsh,
        "let c = (run -d -t busybox:latest --name ws-attach -- sh -c '\(WindowSizeCheck.loop)'); defer { kill $c }; attach $c")
      defer { attach.close() }
      try WindowSizeCheck.expectFollowed(attach)
      try attach.press("C-p")
      try attach.type("q")
      let screen = try attach.waitFor("xcsh-exit=", timeout: 30)
      #expect(screen.contains("xcsh-exit=0"), "\(screen)")
      try expectNoContainers(client)
    }
  }

  /// `xcsh.resize` itself: bad values and targets are refused naming what was wrong.
  @Test func resizeRefusesBadSizesUnknownProcessesAndProcessesWithoutATerminal() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var r = InstantiateRequest(
        imageReference: "busybox:latest", entryPoint: EntryPoint(entryPoint: "/bin/sleep", entryPointArgs: ["1000"]),
        name: "plain")
      r.mainExitedFd = nil
      _ = try client.call(r)
      defer { _ = try? client.call(KillContainerRequest(name: "plain")) }

      var e = try daemonError { try client.call(ResizeTerminalRequest(name: "plain", rows: 0, cols: 80)) }
      #expect(e.errno == 22 && e.value.text.contains("xcsh.resize: rows must be 1 to 65535, found 0"), "\(e)")
      e = try daemonError { try client.call(ResizeTerminalRequest(name: "plain", rows: 24, cols: 70000)) }
      #expect(e.errno == 22 && e.value.text.contains("xcsh.resize: cols must be 1 to 65535, found 70000"), "\(e)")
      e = try daemonError { try client.call(ResizeTerminalRequest(name: "plain", rows: 24, cols: 80)) }
      #expect(e.errno == 22 && e.value.text.contains("process main of container plain is not on a terminal"), "\(e)")
      e = try daemonError { try client.call(ResizeTerminalRequest(name: "plain", process: "7", rows: 24, cols: 80)) }
      #expect(e.errno == 2 && e.value.text.contains("container plain has no running process 7 (running: main)"), "\(e)")
      e = try daemonError { try client.call(ResizeTerminalRequest(name: "ghost", rows: 24, cols: 80)) }
      #expect(e.errno == 2 && e.value.text.contains("no such container: ghost"), "\(e)")
      _ = try client.call(KillContainerRequest(name: "plain"))
      try expectNoContainers(client)
    }
  }

  func expectNoContainers(_ client: XCClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let deadline = Date().addingTimeInterval(30)
    while try !client.call(ListContainersRequest()).isEmpty, Date() < deadline { usleep(20_000) }  // kill is asynchronous
    #expect(try client.call(ListContainersRequest()).isEmpty, sourceLocation: sourceLocation)
  }
}

/// A container shell that shows the size of its terminal: `winch R C` when SIGWINCH arrives,
/// `size R C` for each line typed. Shared by the local and remote (`RemoteHostTests`) checks.
enum WindowSizeCheck {
  /// busybox sh. A trapped signal can end `read` early (with or without the line typed), so
  /// every return of `read` prints the size: no typed line is lost to the trap. `end` exits 3.
  static let loop =
    #"trap "echo winch \$(stty size)" WINCH; echo ready; while :; do read l; [ "$l" = end ] && exit 3; echo size $(stty size); done"#

  /// A tmux session running the xcsh `script` with the xcsh command line `xcsh`; the pane
  /// stays after xcsh ends and shows its exit status.
  static func session(
    in dir: String, _ name: String, xcsh: String, _ script: String, environment: [String: String] = [:]
  ) throws -> TmuxSession {
    let wrapper = "\(dir)/\(name).sh"
    let quoted = script.replacingOccurrences(of: "'", with: "'\\''")
    try "#!/bin/sh\n\(xcsh) -c '\(quoted)'\necho \"xcsh-exit=$?\"\nexec sleep 600\n"
      .write(toFile: wrapper, atomically: true, encoding: .utf8)
    chmod(wrapper, 0o755)
    return try TmuxSession(home: "\(dir)/home-\(name)", xcsh: wrapper, defaultSocket: true, environment: environment)
  }

  /// The pane's size as `stty size` prints it: rows, then columns.
  static func paneSize(_ t: TmuxSession) throws -> String {
    try t.tmux(["display-message", "-p", "-t", "t", "#{pane_height} #{pane_width}"]).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The container sees the pane's size from the start, then the new size (and SIGWINCH)
  /// after the window is resized.
  static func expectFollowed(_ t: TmuxSession) throws {
    try t.waitFor("ready", timeout: 60)
    let first = try paneSize(t)
    try t.press("Enter")
    try t.waitFor("size \(first)")
    try t.tmux(["resize-window", "-t", "t", "-x", "97", "-y", "23"])
    let second = try paneSize(t)
    #expect(second != first)
    try t.waitFor("winch \(second)")
    try t.press("Enter")
    try t.waitFor("size \(second)")
  }

  /// Ends the container's shell (its main or exec'd process): xcsh exits with its status.
  static func end(_ t: TmuxSession) throws {
    try t.type("end")
    try t.press("Enter")
    let screen = try t.waitFor("xcsh-exit=", timeout: 30)
    #expect(screen.contains("xcsh-exit=3"), "\(screen)")
  }
}
