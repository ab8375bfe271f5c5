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

  @Test func aRemoteCommandThatFailsSaysSo() throws {
    let local = try Local()
    local.options.binary = "/bin/false"
    let e = #expect(throws: IPCError.self) {
      _ = try SSHTransport.connect(RemoteHost(host: "nowhere"), options: local.options)
    }
    #expect(e?.message.contains("host nowhere: the remote command ended before the relay started (status 1)") == true, "\(e?.message ?? "")")
  }
}
