import Foundation
import Glibc
import Testing
import XCIPC
import XCTestSupport

/// Host-path mounts and `link` on a remote host (docs/remote.md, "What each descriptor
/// becomes"): the path is the remote host's, opened there by the relay; the link is a child
/// the relay holds there.
extension RemoteHostTests {
  /// The test's "remote host" shares this machine's file system, so xcsh runs in a mount
  /// namespace of its own where `there` shows another directory (`here`): a path that exists
  /// only on the host is missing for xcsh, and one that exists only for xcsh is missing on the
  /// host. A mount opened on the wrong side fails these tests.
  struct SplitView {
    let there: String
    let here: String
    var wrapper: [String] {
      [
        "/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
        #"mount --bind "$1" "$2" && shift 2 && exec "$@""#, "xcsh-split-view", here, there,
      ]
    }

    init(_ host: SSHHostHarness) throws {
      there = host.dir + "/on-host"
      here = host.dir + "/xcsh-view"
      try FileManager.default.createDirectory(atPath: there + "/remote-only", withIntermediateDirectories: true)
      try "written on the host\n".write(toFile: there + "/remote-only/marker", atomically: true, encoding: .utf8)
      try FileManager.default.createDirectory(atPath: here + "/local-only", withIntermediateDirectories: true)
    }
  }

  @Test func aHostPathMountIsAPathOfTheRemoteHost() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      _ = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest"], environment: env)
      let view = try SplitView(host)
      // The premise: where xcsh runs, `there` is the other directory.
      #expect(try host.run(view.wrapper[0], Array(view.wrapper.dropFirst()) + ["/bin/ls", view.there]) == "local-only\n")

      // A path only the host has: the container sees the file written there.
      var r = try runXcsh(
        ["--host", url, "-c", "run -v \(view.there)/remote-only:/data:ro busybox:latest -- cat /data/marker"],
        environment: env, wrapper: view.wrapper)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "written on the host\n")
      try expectNoContainers(daemon)

      // A path only xcsh's side has: the host's error, naming host and path; nothing made.
      r = try runXcsh(
        ["--host", url, "-c", "run -v \(view.there)/local-only:/data busybox:latest -- true"],
        environment: env, wrapper: view.wrapper)
      #expect(r.status != 0)
      #expect(r.err.contains("host \(SSHHostHarness.alias): no such host path `\(view.there)/local-only`"), "\(r.err)")
      try expectNoContainers(daemon)

      // A relative path names a directory of this machine: refused before any call.
      r = try runXcsh(["--host", url, "-c", "run -v ./data:/data busybox:latest -- true"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("`./data` is relative to this machine's directory, but the container runs on host ssh://\(SSHHostHarness.alias)"), "\(r.err)")

      // So is a Compose bind relative to the project directory, before anything is made.
      let project = host.dir + "/stack"
      try FileManager.default.createDirectory(atPath: project + "/data", withIntermediateDirectories: true)
      try """
        services:
          web:
            image: busybox:latest
            command: [sleep, "1000"]
            volumes:
              - ./data:/data
        """.write(toFile: project + "/compose.yaml", atomically: true, encoding: .utf8)
      r = try runXcsh(["--host", url, "-c", "stack up \(project)/compose.yaml -p rmt"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("compose.yaml:6"), "\(r.err)")
      #expect(r.err.contains("the bind `./data:/data` is relative to the project directory on this machine"), "\(r.err)")
      let client = try daemon.client()
      defer { client.close() }
      #expect(try client.call(ListNetworksRequest()).networkInfo.filter { $0.name.hasPrefix("rmt") }.isEmpty)
      try expectNoContainers(daemon)

      // An absolute Compose bind is the host's path, as `-v`'s.
      try """
        services:
          web:
            image: busybox:latest
            command: [sleep, "1000"]
            volumes:
              - \(view.there)/remote-only:/data:ro
        """.write(toFile: project + "/compose.yaml", atomically: true, encoding: .utf8)
      r = try runXcsh(
        [
          "--host", url, "-c",
          "stack up \(project)/compose.yaml -p rmt | ignore; exec rmt-web-1 -- cat /data/marker; stack down \(project)/compose.yaml -p rmt | ignore",
        ], environment: env, wrapper: view.wrapper)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "written on the host\n")
      #expect(try client.call(ListNetworksRequest()).networkInfo.filter { $0.name.hasPrefix("rmt") }.isEmpty)
      try expectNoContainers(daemon)
    }
  }

  @Test func linkOnARemoteHostLastsAsLongAsTheSession() throws {
    try withRemote { host, daemon, url in
      let env = host.environment()
      _ = try runXcsh(["--host", url, "-c", "image import \(try Fixtures.archive()) busybox:latest"], environment: env)
      // The linked container lives while the script does (later calls reach it) and ends with
      // its session; the unlinked one stays.
      var r = try runXcsh(
        [
          "--host", url, "-c",
          "run -d busybox:latest --name kept -- sleep 1000 | ignore; run -d busybox:latest --name linked -- sleep 1000 | link | get name; exec linked -- echo still-here",
        ], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "linked\nstill-here\n")
      let client = try daemon.client()
      defer { client.close() }
      func names() throws -> [String] { try client.call(ListContainersRequest()).map(\.name).sorted() }
      let deadline = Date().addingTimeInterval(30)
      while try names().contains("linked"), Date() < deadline { usleep(50_000) }  // kill is asynchronous
      #expect(try names() == ["kept"])
      _ = try client.call(KillContainerRequest(name: "kept"))
      try expectNoContainers(daemon)

      // `link --wait` returns when the container ends on its own: the daemon kills the child
      // the relay holds there, and the relay says so.
      r = try runXcsh(
        ["--host", url, "-c", "run -d busybox:latest -- sleep 2 | link --wait | get status"], environment: env, seconds: 60)
      #expect(r.status == 0, "\(r.err)")
      #expect(!r.out.isEmpty && r.out != "running\n", "\(r.out)")
      try expectNoContainers(daemon)
    }
  }
}
