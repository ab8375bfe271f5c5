import Foundation
import Glibc
import Testing
import XCIPC

/// Who may use xcd's socket: the file is 0660 root:<socket_group>, and every peer is checked
/// with SO_PEERCRED (root, or the group as primary or supplementary group). Clients run as
/// another user through `setpriv`, with the real `xcsh`.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (setpriv, chown)"))
struct SocketAccessTests {
  static let group: gid_t = 54_321  // a gid no user on the machine has
  static let nobody = "65534"

  var xcsh: String {
    (DaemonHarness.binary as NSString).deletingLastPathComponent + "/xcsh"
  }

  /// `xcsh -c info` against the daemon as uid 65534 with the given setpriv group options.
  func infoAsNobody(_ daemon: DaemonHarness, _ groups: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    p.arguments = ["--reuid=\(Self.nobody)"] + groups + [xcsh, "--socket", daemon.socket, "-c", "info | get config.socket_path"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.environment = ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
  }

  /// A refused client is told who may use the socket, not to start a daemon (one is running).
  func expectAccessHelp(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!text.contains("start xcd"), "\(text)", sourceLocation: sourceLocation)
    #expect(text.contains("help: xcd serves root and members of its socket group only"), "\(text)", sourceLocation: sourceLocation)
  }

  @Test func rootAndTheSocketGroupOnly() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    chmod(daemon.dir, 0o755)  // others may reach the socket file; its own mode decides
    try daemon.start(extraArguments: ["--socket-group", "\(Self.group)"])
    defer { try? daemon.stop() }

    var st = stat()
    #expect(stat(daemon.socket, &st) == 0)
    #expect(st.st_mode & 0o777 == 0o660 && st.st_uid == 0 && st.st_gid == Self.group)

    // Supplementary and primary membership both admit.
    let supplementary = try infoAsNobody(
      daemon, ["--regid=\(Self.nobody)", "--groups=\(Self.group)"])
    #expect(supplementary.0 == 0 && supplementary.1.contains(daemon.socket), "\(supplementary)")
    let primary = try infoAsNobody(daemon, ["--regid=\(Self.group)", "--clear-groups"])
    #expect(primary.0 == 0 && primary.1.contains(daemon.socket), "\(primary)")

    // Outside the group: the file mode stops the connect, and the client says what to do.
    let outsider = try infoAsNobody(daemon, ["--regid=\(Self.nobody)", "--clear-groups"])
    #expect(outsider.0 != 0)
    #expect(outsider.1.contains("permission denied connecting to \(daemon.socket)"), "\(outsider.1)")
    #expect(outsider.1.contains("gid \(Self.group)"), "\(outsider.1)")
    expectAccessHelp(outsider.1)

    // With the file mode loosened by mistake, the SO_PEERCRED check still refuses, and the
    // client reports the daemon's reason naming the socket and the group.
    chmod(daemon.socket, 0o666)
    let peer = try infoAsNobody(daemon, ["--regid=\(Self.nobody)", "--clear-groups"])
    #expect(peer.0 != 0)
    #expect(peer.1.contains("the daemon at \(daemon.socket) refused the connection"), "\(peer.1)")
    #expect(peer.1.contains("uid 65534") && peer.1.contains("gid \(Self.group)"), "\(peer.1)")
    expectAccessHelp(peer.1)
    #expect(daemon.log.contains("xcd serving on"))

    // Root is always served.
    #expect(try daemon.client().call(InfoRequest()).config.socketPath == daemon.socket)
  }

  @Test func withoutAGroupOnlyRootAndAnUnknownGroupIsRefused() throws {
    let daemon = try DaemonHarness()
    defer { daemon.remove() }
    chmod(daemon.dir, 0o755)
    try daemon.start()
    var st = stat()
    #expect(stat(daemon.socket, &st) == 0 && st.st_gid == 0 && st.st_mode & 0o777 == 0o660)
    chmod(daemon.socket, 0o666)
    let peer = try infoAsNobody(daemon, ["--regid=\(Self.nobody)", "--clear-groups"])
    #expect(peer.0 != 0 && peer.1.contains("only root may use this socket"), "\(peer.1)")
    expectAccessHelp(peer.1)
    try daemon.stop()

    let refused = try daemon.runExpectingFailure(extraArguments: [
      "--socket-group", "no-such-group-xcd",
    ])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("socket group no-such-group-xcd does not exist"), "\(refused.stderr)")
  }
}
