import Foundation
import Testing
@testable import XCRemote

/// The host inventory file: parsing, the errors (with file:line), writing, and how `--host`
/// resolves a name.
struct HostInventoryTests {
  static let sample = """
    # my hosts
    hosts:
      web1:
        address: ssh://root@10.0.0.1:2222/run/xc.sock
        labels: {role: web, dc: fra}
        options: [ConnectTimeout=5]
      web2:
        address: ssh://web2.example
    groups:
      web: [web1, web2]
      front: [web2]

    """

  func parse(_ text: String) throws(InventoryError) -> HostInventory {
    try HostInventory(parsing: text, path: "/h.yaml")
  }

  /// The error's text for a file expected to be refused.
  func refusal(_ text: String) -> String {
    do throws(InventoryError) {
      _ = try parse(text)
      return "accepted"
    } catch {
      return "\(error)"
    }
  }

  @Test func parsesHostsLabelsOptionsAndGroups() throws {
    let inv = try parse(Self.sample)
    #expect(inv.hosts.map(\.name) == ["web1", "web2"])
    #expect(inv.hosts[0].labels == ["role": "web", "dc": "fra"])
    #expect(inv.hosts[0].options == ["ConnectTimeout=5"])
    #expect(inv.groups.map(\.name) == ["web", "front"])
    #expect(inv.groups(of: "web2") == ["web", "front"])
    #expect(try inv.expand("web") == ["web1", "web2"])
    let r = try inv.resolve("web1")
    #expect(r.host == "10.0.0.1" && r.user == "root" && r.port == 2222 && r.socketPath == "/run/xc.sock")
    #expect(r.sshOptions == ["ConnectTimeout=5"])
    #expect(try inv.resolve("ssh://other").host == "other")
  }

  @Test func sudoDoasAndAPrebuiltRelayReachTheHostAndTheRemoteCommand() throws {
    let inv = try parse(
      "hosts:\n  a:\n    address: ssh://a\n    sudo: true\n    relay: /opt/xcsh/relay\n  b:\n    address: ssh://b\n    doas: true\n    sudo: false\n  c:\n    address: ssh://c\n")
    let a = try inv.resolve("a")
    #expect(a.privilege == .sudo && a.relayPath == "/opt/xcsh/relay")
    let b = try inv.resolve("b")
    #expect(b.privilege == .doas && b.relayPath == nil)
    #expect(try inv.resolve("c").privilege == RelayPrivilege.none)
    // The remote command passes them as the script's 4th and 5th arguments; the script runs
    // the relay as `sudo -n RELAY SOCKET` (never a prompt) and skips the build for a path.
    let command = SSHTransport.command(socket: a.socketPath, source: [1, 2, 3], hash: "h", privilege: a.privilege, relayPath: a.relayPath)
    #expect(command.hasSuffix("' xcsh-relay h 3 '/var/run/xc.sock' 'sudo' '/opt/xcsh/relay' '' 0"), "\(command)")
    #expect(command.contains(#"exec "$x" -n "$r" "$s""#))
    let plain = SSHTransport.command(socket: "/s", source: [], hash: "h")
    #expect(plain.hasSuffix("xcsh-relay h 0 '/s' '' '' '' 0"), "\(plain)")
    // Written back as read.
    let dir = NSTemporaryDirectory() + "xcsh-inv-priv-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/hosts.yaml"
    var copy = inv.withPath(path)
    try copy.save()
    #expect(try HostInventory.load(path: path) == copy)
    #expect(try HostInventory.load(path: path).host(named: "a")?.relayPath == "/opt/xcsh/relay")
    #expect(throws: InventoryError.self) { try copy.add(InventoryHost(name: "d", address: "ssh://d", relayPath: "relative")) }
  }

  @Test func anEmptyOrMissingFileIsAnEmptyInventory() throws {
    #expect(try parse("").hosts.isEmpty)
    #expect(try parse("hosts:\ngroups:\n").hosts.isEmpty)
    #expect(try HostInventory.load(path: "/nonexistent/xcsh/hosts.yaml").hosts.isEmpty)
  }

  @Test func badFilesSayFileAndLine() {
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\nhost:\n  b: {}\n") == "/h.yaml:4: unknown key `host` (an inventory has `hosts` and `groups`)")
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    sudo: yes please\n") == "/h.yaml:4: host `a`: `sudo` must be true or false, not `yes please`")
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    sudo: true\n    doas: true\n") == "/h.yaml:5: host `a`: `sudo` and `doas` exclude each other")
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    relay: bin/relay\n") == "/h.yaml:4: host `a`: `relay` must be an absolute path of letters, digits and `/._-`, not `bin/relay`")
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    relay: \"/opt/x relay\"\n").hasPrefix("/h.yaml:4: host `a`: `relay` must be an absolute path"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    relay: [x]\n") == "/h.yaml:4: expected the relay path of host `a`, found a list")
    #expect(refusal("hosts:\n  a:\n    adress: ssh://a\n").hasPrefix("/h.yaml:3: host `a`: unknown key `adress`"))
    #expect(refusal("hosts:\n  a:\n    labels: {x: y}\n") == "/h.yaml:2: host `a` has no `address: ssh://…`")
    #expect(refusal("hosts:\n  a:\n    address: http://a\n").hasPrefix("/h.yaml:3: host `a`: invalid host `http://a`"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a:99999\n").contains("the port must be a number from 1 to 65535"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\ngroups:\n  g: [a, b]\n") == "/h.yaml:5: group `g` names `b`, which is not a host in `hosts`")
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\ngroups:\n  a: [a]\n").hasPrefix("/h.yaml:5: `a` is defined twice"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    options: [ControlPath=/tmp/x]\n").hasPrefix("/h.yaml:4: the ssh option `ControlPath` is set by xcsh"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n    options: [-oProxyCommand]\n").hasPrefix("/h.yaml:4: the ssh option `-oProxyCommand` must be written Key=Value"))
    #expect(refusal("hosts:\n  -bad:\n    address: ssh://a\n").hasPrefix("/h.yaml:2: `-bad` is not a valid host name"))
    // `local` is this machine's daemon inside `on`/`fleet`: no inventory entry may shadow it.
    #expect(refusal("hosts:\n  local:\n    address: ssh://a\n").hasPrefix("/h.yaml:2: `local` is reserved for this machine's daemon"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\ngroups:\n  local: [a]\n").hasPrefix("/h.yaml:5: `local` is reserved"))
    #expect(refusal("hosts:\n  a:\n    address: [ssh://a]\n").hasPrefix("/h.yaml:3: expected the address of host `a`, found a list"))
    #expect(refusal("hosts:\n  a:\n    address: ssh://a\n   labels: x\n").hasPrefix("/h.yaml:4: not valid YAML:"))
    #expect(refusal("- a\n- b\n") == "/h.yaml:1: the file must be a mapping with `hosts:` and `groups:`")
  }

  @Test func aNameThatIsNotAHostSaysWhatItIsNot() {
    let inv = try? parse(Self.sample)
    #expect(throws: InventoryError.self) { try inv?.resolve("nope") }
    do throws(InventoryError) {
      _ = try inv?.resolve("web")
    } catch {
      #expect("\(error)".contains("`web` is a group; --host takes one host"))
    }
    // What cannot be a name was meant as an address: the address syntax is what is explained.
    do throws(InventoryError) {
      _ = try inv?.resolve("ops@web1")
      Issue.record("accepted ops@web1")
    } catch {
      #expect("\(error)".hasPrefix("invalid host `ops@web1`: a remote host is written ssh://"), "\(error)")
    }
  }

  @Test func writesAtomicallyAndReadsBackWhatItWrote() throws {
    let dir = NSTemporaryDirectory() + "xcsh-inv-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/sub/hosts.yaml"
    var inv = try HostInventory(parsing: Self.sample, path: path)
    try inv.add(InventoryHost(name: "db1", address: "ssh://[fe80::1]:22", labels: ["role": "db \"main\": yes"], options: ["Port=2200"]))
    try inv.save()
    var back = try HostInventory.load(path: path)
    #expect(back == inv)
    #expect(back.host(named: "db1")?.labels["role"] == "db \"main\": yes")

    try back.remove("web2")
    try back.save()
    let again = try HostInventory.load(path: path)
    #expect(again.hosts.map(\.name) == ["web1", "db1"])
    #expect(again.groups.map(\.members) == [["web1"], []])
    // The previous file is kept; no temporary file is left.
    #expect(try HostInventory.load(path: path + ".bak") == inv.withPath(path + ".bak"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub").sorted() == ["hosts.yaml", "hosts.yaml.bak"])

    #expect(throws: InventoryError.self) { try back.add(InventoryHost(name: "web1", address: "ssh://x")) }
    #expect(throws: InventoryError.self) { try back.add(InventoryHost(name: "x", address: "x")) }
    #expect(throws: InventoryError.self) { try back.remove("nope") }
  }

  @Test func theFileIsFoundFromTheEnvironment() {
    #expect(HostInventory.defaultPath(environment: ["XCSH_HOSTS": "/a.yaml", "XDG_CONFIG_HOME": "/c", "HOME": "/h"]) == "/a.yaml")
    #expect(HostInventory.defaultPath(environment: ["XDG_CONFIG_HOME": "/c", "HOME": "/h"]) == "/c/xcsh/hosts.yaml")
    #expect(HostInventory.defaultPath(environment: ["HOME": "/h"]) == "/h/.config/xcsh/hosts.yaml")
  }

  @Test func aHostsOptionsComeBeforeXcshsDefaultsSoTheyWin() {
    var host = RemoteHost(host: "h")
    host.sshOptions = ["ConnectTimeout=5"]
    let a = SSHOptions(runtimeDirectory: "/rt").arguments(host, command: "true")
    let mine = a.firstIndex(of: "ConnectTimeout=5")
    let theirs = a.firstIndex(of: "ConnectTimeout=30")
    #expect(mine != nil && theirs != nil && mine! < theirs!)
  }
}

extension HostInventory {
  func withPath(_ p: String) -> HostInventory {
    var c = self
    c.path = p
    return c
  }
}
