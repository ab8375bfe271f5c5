import Foundation
import Glibc
import Testing
import XCIPC
import XCTestSupport
@testable import XCRemote

/// The first-contact script without sshd: a stand-in `ssh` runs the remote command locally
/// (its last argument, with /bin/sh as sshd would), so the build, the cache and the build
/// failure are checked in one process. The real sshd path is RemoteHostTests (XCDTests).
@Suite(.serialized) struct FirstContactTests {
  /// A temp directory with the stand-in ssh and a cache of its own.
  final class Local {
    let dir: String
    var options: SSHOptions

    init() throws {
      var template = Array("/tmp/xcsh-first-contact-XXXXXX".utf8CString)
      guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
      dir = String(cString: p)
      let shim = dir + "/ssh"
      let script = """
        #!/bin/sh
        # Runs the remote command (the last argument) here, with a private cache.
        for last in "$@"; do :; done
        export XDG_CACHE_HOME=\(dir)/cache
        exec /bin/sh -c "$last"

        """
      try writeStandInProgram(shim, script)
      options = SSHOptions(runtimeDirectory: dir + "/rt/ssh")
      options.binary = shim
    }

    /// Makes the stand-in run the remote command as `user` (as an ssh login of that user
    /// would), with a cache that user may write.
    func runAs(_ user: String) throws {
      chmod(dir, 0o755)
      try FileManager.default.createDirectory(atPath: dir + "/cache", withIntermediateDirectories: true)
      chmod(dir + "/cache", 0o777)
      let script = """
        #!/bin/sh
        for last in "$@"; do :; done
        export XDG_CACHE_HOME=\(dir)/cache
        exec /usr/sbin/runuser -u \(user) -- /bin/sh -c "$last"

        """
      let shim = dir + "/ssh-as"
      let fd = open(shim, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
      guard fd >= 0 else { throw TestFailure("cannot create \(shim)") }
      let written = script.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
      close(fd)
      guard written == script.utf8.count else { throw TestFailure("cannot write \(shim)") }
      options.binary = shim
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
  }

  @Test func buildsOnceThenReusesTheCachedRelay() throws {
    let local = try Local()
    var table = XCMethodTable()
    table.register(ListContainersRequest.self) { _, _ in [] }
    let server = try XCServer(path: local.dir + "/xc.sock", table: table)
    server.start()
    defer { server.stop() }
    let host = RemoteHost(host: "local", socketPath: local.dir + "/xc.sock")
    let first = try SSHTransport.connect(host, options: local.options)
    #expect(first.built)
    #expect(try first.session.call(ListContainersRequest()).isEmpty)
    first.close()
    #expect(FileManager.default.isExecutableFile(atPath: "\(local.dir)/cache/xcsh/relay-\(RelaySource.hash)"))
    let second = try SSHTransport.connect(host, options: local.options)
    defer { second.close() }
    #expect(!second.built)
    #expect(try second.session.call(ListContainersRequest()).isEmpty)
    // The runtime directory is private.
    var st = stat()
    #expect(stat(local.dir + "/rt/ssh", &st) == 0 && st.st_mode & 0o777 == 0o700)
  }

  @Test func aCompilerErrorIsTheMessage() throws {
    let local = try Local()
    let host = RemoteHost(host: "local", socketPath: local.dir + "/xc.sock")
    let e = #expect(throws: IPCError.self) {
      _ = try SSHTransport.connect(host, options: local.options, source: "int main(void) { return undeclared_here; }\n", hash: "0000broken000000")
    }
    #expect(e?.message.contains("host local: the relay could not be built there with cc") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("undeclared_here") == true, "\(e?.message ?? "")")
    #expect(!FileManager.default.fileExists(atPath: "\(local.dir)/cache/xcsh/relay-0000broken000000"))
  }

  /// `relay: PATH`: that binary runs, nothing is compiled; a missing one and one of another
  /// version are refused by name.
  @Test func aPrebuiltRelayIsUsedAsIsAndItsVersionChecked() throws {
    let local = try Local()
    var table = XCMethodTable()
    table.register(ListContainersRequest.self) { _, _ in [] }
    let server = try XCServer(path: local.dir + "/xc.sock", table: table)
    server.start()
    defer { server.stop() }
    var host = RemoteHost(host: "local", socketPath: local.dir + "/xc.sock")
    host.relayPath = builtBinary("xcsh-relay")
    let c = try SSHTransport.connect(host, options: local.options)
    #expect(!c.built)
    #expect(try c.session.call(ListContainersRequest()).isEmpty)
    c.close()
    #expect(!FileManager.default.fileExists(atPath: "\(local.dir)/cache/xcsh/relay-\(RelaySource.hash)"))

    host.relayPath = local.dir + "/no/relay"
    var e = #expect(throws: IPCError.self) { _ = try SSHTransport.connect(host, options: local.options) }
    #expect(e?.message.hasPrefix("host local: no executable relay at \(local.dir)/no/relay (the host's `relay:` in the inventory)") == true, "\(e?.message ?? "")")

    // An older relay: the same source with another RELAY_VERSION.
    let old = RelaySource.text.replacingOccurrences(of: "#define RELAY_VERSION \"\(RelaySource.version)\"", with: "#define RELAY_VERSION \"0\"")
    #expect(old != RelaySource.text)
    try old.write(toFile: local.dir + "/old.c", atomically: true, encoding: .utf8)
    let cc = Process()
    cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
    cc.arguments = ["-O2", "-o", local.dir + "/old-relay", local.dir + "/old.c"]
    try cc.run()
    cc.waitUntilExit()
    #expect(cc.terminationStatus == 0)
    host.relayPath = local.dir + "/old-relay"
    e = #expect(throws: IPCError.self) { _ = try SSHTransport.connect(host, options: local.options) }
    #expect(
      e?.message.hasPrefix("host local: the pre-built relay \(local.dir)/old-relay is version 0, this xcsh needs version \(RelaySource.version)") == true,
      "\(e?.message ?? "")")
  }

  /// `sudo: true` with a real sudo: the "ssh user" is nobody (the stand-in runs the command
  /// with runuser). Without a sudoers rule `sudo -n` refuses (no prompt, a clear error); with a
  /// NOPASSWD rule for the cached relay it runs as root (uid 0 in its handshake).
  @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo") && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"), "needs root, sudo and runuser"))
  func sudoRunsTheRelayAsRootOrSaysWhyNot() throws {
    let local = try Local()
    try local.runAs("nobody")
    var table = XCMethodTable()
    table.register(ListContainersRequest.self) { _, _ in [] }
    let server = try XCServer(path: local.dir + "/xc.sock", table: table)
    server.start()
    defer { server.stop() }
    var host = RemoteHost(host: "local", socketPath: local.dir + "/xc.sock")
    host.privilege = .sudo
    let e = #expect(throws: IPCError.self) { _ = try SSHTransport.connect(host, options: local.options) }
    #expect(e?.code == .permissionDenied)
    #expect(e?.message.hasPrefix("host local: `sudo -n` did not start the relay (") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("sudo: a password is required") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("a NOPASSWD rule in sudoers") == true, "\(e?.message ?? "")")

    // The relay was built (as nobody) and cached; a rule for exactly that binary lets it run.
    let relay = "\(local.dir)/cache/xcsh/relay-\(RelaySource.hash)"
    #expect(FileManager.default.isExecutableFile(atPath: relay))
    let rule = "/etc/sudoers.d/xcsh-test-\(getpid())"
    try "nobody ALL=(root) NOPASSWD: \(relay)\n".write(toFile: rule, atomically: false, encoding: .utf8)
    defer { unlink(rule) }
    chmod(rule, 0o440)
    let c = try SSHTransport.connect(host, options: local.options)
    defer { c.close() }
    #expect(!c.built)
    #expect(c.session.relayInfo["uid"] == "0")
    #expect(try c.session.call(ListContainersRequest()).isEmpty)
  }

  /// `doas: true` where doas has no rule for the user: refused with doas's own message.
  @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/doas") && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"), "needs root, doas and runuser"))
  func doasWithoutARuleSaysWhy() throws {
    let local = try Local()
    try local.runAs("nobody")
    var host = RemoteHost(host: "local", socketPath: local.dir + "/xc.sock")
    host.privilege = .doas
    let e = #expect(throws: IPCError.self) { _ = try SSHTransport.connect(host, options: local.options) }
    #expect(e?.code == .permissionDenied)
    #expect(e?.message.hasPrefix("host local: `doas -n` did not start the relay (") == true, "\(e?.message ?? "")")
    #expect(e?.message.contains("doas") == true && e?.message.contains("permit nopass") == true, "\(e?.message ?? "")")
  }

  @Test func aRemoteCommandThatFailsSaysSo() throws {
    let local = try Local()
    local.options.binary = "/bin/false"
    let e = #expect(throws: IPCError.self) {
      _ = try SSHTransport.connect(RemoteHost(host: "nowhere"), options: local.options)
    }
    #expect(e?.message.contains("host nowhere: the remote command ended before the relay started (status 1)") == true, "\(e?.message ?? "")")
  }
}
