import Foundation
import Testing
import XCRemote

/// `host add|list|rm` through the built xcsh on a throw-away inventory file (no daemon, no
/// ssh: these commands only read and write the file).
struct HostInventoryCommandTests {
  func withInventory(_ body: (String, [String: String]) throws -> Void) throws {
    let dir = NSTemporaryDirectory() + "xcsh-hosts-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var env = ProcessInfo.processInfo.environment
    env["XCSH_HOSTS"] = dir + "/hosts.yaml"
    env["XC_HOST"] = nil
    try body(dir + "/hosts.yaml", env)
  }

  @Test func addListAndRemoveHostsAsRecords() throws {
    try withInventory { path, env in
      var r = try runXcsh(["-c", "host add web1 ssh://root@10.0.0.1:2222 --label role=web --label dc=fra | to json"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == #"{"name":"web1","address":"ssh://root@10.0.0.1:2222","labels":{"dc":"fra","role":"web"},"groups":[],"privilege":null,"relay":null}"# + "\n")
      r = try runXcsh(["-c", "host add db1 ssh://db1 -o ConnectTimeout=5"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(try HostInventory.load(path: path).host(named: "db1")?.options == ["ConnectTimeout=5"])

      // A name already there, or a bad address: refused, the file unchanged.
      let before = try String(contentsOfFile: path, encoding: .utf8)
      r = try runXcsh(["-c", "host add web1 ssh://elsewhere"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("`web1` is already in the inventory \(path)"), "\(r.err)")
      r = try runXcsh(["-c", "host add web2 http://web2"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("host `web2`: invalid host `http://web2`"), "\(r.err)")
      #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
      // --dry-run: checked, planned, not written.
      r = try runXcsh(["--dry-run", "-c", "host add web3 ssh://web3 | get name"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == "web3\n")
      #expect(r.err.contains("+ host add web3 ssh://web3 (\(path) not written: --dry-run)"), "\(r.err)")
      r = try runXcsh(["--dry-run", "-c", "host rm web1"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(try String(contentsOfFile: path, encoding: .utf8) == before)

      // Groups written by hand are listed, and `host rm` takes the host out of them.
      try (before + "groups:\n  web: [db1, web1]\n  db: [db1]\n").write(toFile: path, atomically: true, encoding: .utf8)
      r = try runXcsh(["-c", "host list | each { |h| \"$h.name:$($h.groups | str join ',')\" } | str join ' '"], environment: env)
      #expect(r.out == "web1:web db1:web,db\n", "\(r.err)")
      // One group's hosts in the group's order, one host by its name, an unknown name refused.
      r = try runXcsh(["-c", "print (host list web | get name | str join ','); print (host list db | get name | str join ','); print (host list web1 | get name | str join ',')"], environment: env)
      #expect(r.out == "db1,web1\ndb1\nweb1\n", "\(r.err)")
      r = try runXcsh(["-c", "host list nosuch"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("no host or group `nosuch`"), "\(r.err)")
      r = try runXcsh(["-c", "host rm web1 | get 0.name"], environment: env)
      #expect(r.out == "web1\n", "\(r.err)")
      let left = try HostInventory.load(path: path)
      #expect(left.hosts.map(\.name) == ["db1"])
      #expect(left.groups.map(\.members) == [["db1"], ["db1"]])
      r = try runXcsh(["-c", "host rm nosuch"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("no host `nosuch` in the inventory"), "\(r.err)")
    }
  }

  /// `--sudo`, `--doas` and `--relay` write what a hand-written entry would say, read back the
  /// same way; both privileges, or a relative relay, are refused with the file unchanged.
  @Test func addWritesPrivilegeAndRelay() throws {
    try withInventory { path, env in
      var r = try runXcsh(
        ["-c", "host add db2 ssh://ops@db2 --sudo --relay /usr/local/libexec/xcsh-relay | select privilege relay | to json"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      #expect(r.out == #"{"privilege":"sudo","relay":"/usr/local/libexec/xcsh-relay"}"# + "\n")
      r = try runXcsh(["-c", "host add db3 ssh://db3 --doas"], environment: env)
      #expect(r.status == 0, "\(r.err)")
      let inv = try HostInventory.load(path: path)
      #expect(inv.host(named: "db2")?.privilege == .sudo)
      #expect(inv.host(named: "db2")?.relayPath == "/usr/local/libexec/xcsh-relay")
      #expect(inv.host(named: "db3")?.privilege == .doas && inv.host(named: "db3")?.relayPath == nil)
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains("  db2:\n    address: \"ssh://ops@db2\"\n    sudo: true\n    relay: \"/usr/local/libexec/xcsh-relay\"\n"), "\(text)")
      r = try runXcsh(["-c", "host list | each {|h| \"$h.name=$h.privilege\" } | str join ' '"], environment: env)
      #expect(r.out == "db2=sudo db3=doas\n", "\(r.err)")

      r = try runXcsh(["-c", "host add db4 ssh://db4 --sudo --doas"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("`host add` takes `--sudo` or `--doas`, not both"), "\(r.err)")
      r = try runXcsh(["-c", "host add db4 ssh://db4 --relay bin/relay"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("host `db4`: `relay` must be an absolute path"), "\(r.err)")
      #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }
  }

  @Test func aBadFileIsAnErrorWithFileAndLine() throws {
    try withInventory { path, env in
      try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try "hosts:\n  a:\n    address: ssh://a\n    sudo: maybe\n".write(toFile: path, atomically: true, encoding: .utf8)
      var r = try runXcsh(["-c", "host list"], environment: env)
      #expect(r.status != 0)
      #expect(r.err.contains("\(path):4: host `a`: `sudo` must be true or false, not `maybe`"), "\(r.err)")
      r = try runXcsh(["--host", "a", "-c", "ps"], environment: env)
      #expect(r.status == 2)
      #expect(r.err.contains("error: --host: \(path):4: host `a`: `sudo`"), "\(r.err)")
    }
  }
}
