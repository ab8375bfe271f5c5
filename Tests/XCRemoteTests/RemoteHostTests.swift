import Foundation
import Testing
import XCIPC
@testable import XCRemote

@Suite struct RemoteHostSyntaxTests {
  @Test func parsesEveryPart() throws {
    let h = try RemoteHost(parsing: "ssh://ops@web1.example:2222/run/xc.sock")
    #expect(h == RemoteHost(host: "web1.example", user: "ops", port: 2222, socketPath: "/run/xc.sock"))
    #expect(try RemoteHost(parsing: "ssh://web1") == RemoteHost(host: "web1"))
    #expect(try RemoteHost(parsing: "ssh://[fd00::1]:22").host == "fd00::1")
    #expect(h.description == "ops@web1.example:2222")
  }

  @Test(arguments: [
    ("web1", "ssh://"), ("ssh://", "host name is empty"), ("ssh://web1:0", "port"), ("ssh://web1:x", "port"),
    ("ssh://@web1", "user"), ("ssh://-oProxyCommand=x", "not a host name"), ("ssh://web1/x'y", "socket path"),
  ])
  func rejectsWithTheReason(text: String, reason: String) {
    let e = #expect(throws: RemoteHostSyntaxError.self) { _ = try RemoteHost(parsing: text) }
    #expect(e?.description.contains(reason) == true, "\(e?.description ?? "")")
  }

  @Test func sshArgumentsUseTheOwnControlMaster() {
    var o = SSHOptions(runtimeDirectory: "/run/user/1/xcsh/ssh")
    o.configFile = "/tmp/cfg"
    let a = o.arguments(RemoteHost(host: "web1", user: "ops", port: 2222), command: "true")
    #expect(a.starts(with: ["-F", "/tmp/cfg", "-T", "-o", "BatchMode=yes", "-o", "ControlMaster=auto"]))
    #expect(a.contains("ControlPath=/run/user/1/xcsh/ssh/cm-%C"))
    #expect(a.suffix(3) == ["--", "web1", "true"])
  }

  /// `$XCSH_RELAY_PERSIST` is whole seconds (default 600, 0 off); anything else fails every
  /// connection by name before ssh runs (it once meant 600 silently).
  @Test func relayPersistIsWholeSeconds() throws {
    #expect(SSHOptions.fromEnvironment([:]).relayPersist == 600)
    #expect(SSHOptions.fromEnvironment(["XCSH_RELAY_PERSIST": "0"]).relayPersist == 0)
    #expect(SSHOptions.fromEnvironment(["XCSH_RELAY_PERSIST": "90"]).relayPersist == 90)
    for bad in ["10m", "-5", "1.5"] {
      let o = SSHOptions.fromEnvironment(["XCSH_RELAY_PERSIST": bad, "XCSH_SSH": "/nonexistent/ssh"])
      let e = #expect(throws: IPCError.self) { _ = try SSHTransport.connect(RemoteHost(host: "web1"), options: o) }
      #expect(e?.message.contains("XCSH_RELAY_PERSIST=\"\(bad)\" is not a number of seconds") == true, "\(e?.message ?? "")")
    }
  }
}

/// The relay's source as shipped is relay.c, and it builds warning-free with both compilers.
@Suite struct RelaySourceTests {
  @Test func embeddedSourceMatchesTheFile() throws {
    let file = try String(contentsOfFile: repoRoot + "/Sources/xcsh-relay/relay.c", encoding: .utf8)
    #expect(RelaySource.text == file, "run scripts/gen-relay-source")
  }

  @Test(arguments: ["gcc", "clang"])
  func compilesWithoutWarnings(compiler: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let out = NSTemporaryDirectory() + "relay-\(compiler)-\(getpid())"
    p.arguments = [compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-o", out, repoRoot + "/Sources/xcsh-relay/relay.c"]
    let err = Pipe()
    p.standardError = err
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    try? FileManager.default.removeItem(atPath: out)
    #expect(p.terminationStatus == 0, "\(text)")
  }
}
