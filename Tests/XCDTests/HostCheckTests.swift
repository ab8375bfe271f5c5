import Foundation
import Glibc
import Testing
import XCRemote

/// `host check` and `--host NAME` end to end: the built xcsh reaches a real xcd through a real
/// sshd in a network namespace, by the names of an inventory file; an unreachable host is a
/// record with its error, not a failure of the command. Part of the serialized RemoteHostTests
/// suite: the sshd harness names its namespace and veth by pid, so two at once would collide.
extension RemoteHostTests {
  /// The records of `host check …` as JSON objects.
  func hostCheckRecords(_ out: String) throws -> [[String: Any]] {
    let parsed = try JSONSerialization.jsonObject(with: Data(out.utf8))
    return try #require(parsed as? [[String: Any]], "not a list of records: \(out)")
  }

  @Test func hostCheckReportsAReachableAndTwoUnreachableHostsByName() throws {
    let host = try SSHHostHarness()
    defer {
      host.tearDown()
      host.expectGone()
    }
    try withDaemon { daemon in
      let inventory = host.dir + "/hosts.yaml"
      try """
        hosts:
          good:
            address: ssh://\(SSHHostHarness.alias)\(daemon.socket)
            labels: {role: test}
          badkey:
            address: ssh://xcsh-test-wrong-key/run/xc.sock
          nodaemon:
            address: ssh://\(SSHHostHarness.alias)\(host.dir)/no-daemon.sock
        groups:
          all: [good, badkey, nodaemon]

        """.write(toFile: inventory, atomically: true, encoding: .utf8)
      var env = host.environment()
      env["XCSH_HOSTS"] = inventory

      let r = try runXcsh(["-c", "host check all | to json"], environment: env, seconds: 90)
      #expect(r.status == 0, "\(r.err)")
      let rows = try hostCheckRecords(r.out)
      #expect(rows.map { $0["host"] as? String } == ["good", "badkey", "nodaemon"])
      guard rows.count == 3 else { return }

      let good = rows[0]
      #expect(good["ok"] as? Bool == true, "\(good)")
      #expect(good["error"] is NSNull, "\(good)")
      #expect(good["relay"] as? String == RelaySource.version)
      #expect((good["engine"] as? [String: Any])?["name"] as? String == "xcd", "\(good)")
      let rtt = try #require(good["rtt"] as? Double, "\(good)")
      #expect(rtt > 0 && rtt < 10_000)

      let badkey = rows[1]
      #expect(badkey["ok"] as? Bool == false)
      #expect(badkey["relay"] is NSNull && badkey["engine"] is NSNull && badkey["rtt"] is NSNull)
      let keyError = badkey["error"] as? String ?? ""
      #expect(keyError.contains("host xcsh-test-wrong-key: ssh failed"), "\(keyError)")
      #expect(keyError.contains("Permission denied (publickey"), "\(keyError)")

      let nodaemon = rows[2]
      #expect(nodaemon["ok"] as? Bool == false)
      #expect((nodaemon["error"] as? String ?? "").contains("no daemon is listening at \(host.dir)/no-daemon.sock"), "\(nodaemon)")

      // `--host NAME` takes the inventory's address; an unknown name is refused up front.
      let info = try runXcsh(["--host", "good", "-c", "info | get engine.name"], environment: env, seconds: 60)
      #expect(info.status == 0, "\(info.err)")
      #expect(info.out == "xcd\n")
      var bad = env
      bad["XC_HOST"] = "nosuch"
      let unknown = try runXcsh(["-c", "ps"], environment: bad, seconds: 30)
      #expect(unknown.status == 2)
      #expect(unknown.err.contains("$XC_HOST: `nosuch` is neither an ssh://"), "\(unknown.err)")

      host.stopControlMasters()
      let deadline = Date().addingTimeInterval(20)
      func relays() -> [String] { host.sessionRelays(hash: RelaySource.hash) }
      while Date() < deadline, !relays().isEmpty { usleep(50_000) }  // polling, bounded
      #expect(relays().isEmpty, "relays left: \(relays())")
    }
  }
}
