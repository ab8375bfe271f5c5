import Foundation
import Glibc
import Synchronization
import Testing
import XCIPC
import XCShell
import XCSystem

@testable import XCObjects

/// What xcsh sends for each command, byte for byte, against what xc's own client sends for the
/// same command (xc-ipc.md §2 and §4, xc-cli.md §5.2). The reference bodies are the golden
/// requests of Tests/XCIPCTests/Snapshots/requests (spec §4 examples) or, where the spec gives
/// the field list only, written here from it in declaration order with xc's CLI defaults.
@Suite(.serialized) struct WireCompatTests {
  /// A golden request body (the real client's JSON).
  static func golden(_ name: String) -> String {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    let path = url.appendingPathComponent("XCIPCTests/Snapshots/requests/\(name).json").path
    return (try! String(contentsOfFile: path, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// xc's `instantiate` as `xc run` fills it (xc-ipc.md §2.3 field order, CLI defaults),
  /// with `fields` replaced (raw JSON values).
  static func xcInstantiate(_ fields: [String: String]) -> String {
    let order: [(String, String)] = [
      ("image_reference", ""), ("envs", "{}"), ("vnet", "false"), ("enable_usdt", "false"), ("ips", "[]"),
      ("ipreq", "[]"), ("mount_req", "[]"), ("copies", "[]"),
      ("entry_point", #"{"entry_point":null,"entry_point_args":[]}"#), ("hostname", "null"),
      ("main_norun", "false"), ("init_norun", "false"), ("deinit_norun", "false"), ("persist", "false"),
      ("no_clean", "false"), ("name", "null"), ("dns", #""Inherit""#), ("extra_layers", "[]"),
      ("main_started_notify", "null"), ("create_only", "false"), ("linux_no_create_sys_dir", "false"),
      ("linux_no_mount_sys", "false"), ("linux_no_create_proc_dir", "false"), ("linux_no_mount_proc", "false"),
      ("user", "null"), ("group", "null"), ("override_props", "{}"), ("jail_datasets", "[]"),
      ("children_max", "0"), ("netgroups", "[]"), ("main_ip_selector", "null"), ("tap_interfaces", "[]"),
      ("tun_interfaces", "[]"), ("main_exited_fd", "null"), ("stdin", "null"), ("stdout", "null"),
      ("stderr", "null"), ("use_tty", "false"), ("port_redirections", "[]"), ("enable_pf", "false"),
    ]
    let body = order.map { k, d in "\"\(k)\":\(fields[k] ?? d)" }.joined(separator: ",")
    return #"{"method":"instantiate","value":{"# + body + "}}"
  }

  static func unix(_ s: String) -> String { #"{"Unix":["# + s.utf8.map(String.init).joined(separator: ",") + "]}" }

  static let publish8080 =
    #"{"ifaces":null,"proto":["Tcp","Udp"],"origin":[],"addresses":null,"source_port":{"Single":8080},"dest_port":80,"dest_addr":null}"#

  func run(_ code: String, replies: [String: @Sendable (String) -> String] = [:]) throws -> (Value, [FakeDaemon.Request]) {
    let fake = try FakeDaemon(replies: replies)
    defer { fake.stop() }
    let v = try xcsh(code, fake)
    return (v, fake.requests)
  }

  func bodies(_ code: String, replies: [String: @Sendable (String) -> String] = [:]) throws -> [String] {
    try run(code, replies: replies).1.map(\.body)
  }

  // MARK: Containers

  @Test func runItMatchesSpecExample43() throws {
    // xc run -it --vnet --network default --name web freebsdxc/freebsd:13.2 /bin/sh (spec §4.3):
    // the terminal is served by the fake; main "exits" 0.
    setenv("TERM", "xterm", 1)
    let term = try TerminalServer(greeting: "hello from the pty\r\n")
    defer { term.stop() }
    let shown = FakeDaemon.snapshot("show_container").replacingOccurrences(
      of: "/var/run/xc.5f3c9a7e21b4.main", with: term.path)
    let (_, reqs) = try run(
      "run -it --vnet --network default --name web freebsdxc/freebsd:13.2 -- /bin/sh",
      replies: ["show_container_nocache": { _ in shown }])
    #expect(reqs.map(\.method) == ["instantiate", "show_container_nocache"])
    #expect(reqs[0].body == Self.golden("instantiate"))
    #expect(reqs[0].descriptors == 5)
    #expect(reqs[1].body == Self.golden("show_container_nocache").replacingOccurrences(of: "5f3c9a7e21b4", with: "5f3c9a7e21b4"))
    #expect(term.served)
  }

  @Test func runDetachedSendsNoDescriptors() throws {
    let (v, reqs) = try run("run -d --name web busybox:latest")
    #expect(reqs.map(\.body) == [
      Self.xcInstantiate(["image_reference": #""busybox:latest""#, "hostname": #""web""#, "name": #""web""#]),
      #"{"method":"show_container","value":{"id":"5f3c9a7e21b4"}}"#,
    ])
    #expect(reqs[0].descriptors == 0)
    // The object: the daemon's record plus the conveniences.
    guard case .object(let o) = v.kind else { Issue.record("not an object: \(v)"); return }
    #expect(o.type == .container)
    #expect(o.fields["name"] == .string("web"))
    #expect(o.fields["status"] == .string("running"))
    #expect(o.fields["ip"] == .string("172.16.0.2"))
    #expect(o.fields["exit_code"] == .null)
  }

  @Test func runForegroundWithBindVolumePublishEnvDnsAndCopy() throws {
    let file = NSTemporaryDirectory() + "xcsh-copy-\(getpid())"
    try "x".write(toFile: file, atomically: true, encoding: .utf8)
    defer { unlink(file) }
    let (v, reqs) = try run(
      "(run busybox:latest -v /tmp:/srv -v data:/data -p 8080:80 -e A=1 --dns 1.1.1.1 --copy \(file):/etc/x -- echo hi)",
      replies: ["list_containers": FakeDaemon.ok("[]")])
    #expect(v == .string(""))
    // After main's exit, xcsh waits for the teardown (the container gone from list_containers).
    #expect(reqs.map(\.method) == ["instantiate", "list_containers"])
    let mounts = #"[{"source":\#(Self.unix("/tmp")),"dest":\#(Self.unix("/srv")),"evid":0,"read_only":false},"#
      + #"{"source":\#(Self.unix("data")),"dest":\#(Self.unix("/data")),"evid":null,"read_only":false}]"#
    #expect(reqs.first?.body == Self.xcInstantiate([
      "image_reference": #""busybox:latest""#, "envs": #"{"A":"1"}"#, "mount_req": mounts,
      "copies": #"[{"source":1,"destination":\#(Self.unix("/etc/x"))}]"#,
      "entry_point": #"{"entry_point":"echo","entry_point_args":["hi"]}"#,
      "dns": #"{"Specified":{"servers":["1.1.1.1"],"search_domains":[]}}"#,
      "main_started_notify": "2", "main_exited_fd": "3", "stdout": "4", "stderr": "5",
      "port_redirections": "[\(Self.publish8080)]",
    ]))
    // evidence, copy source, started, exited, stdout, stderr
    #expect(reqs.first?.descriptors == 6)
  }

  @Test func runReadOnlyBindAndNetworkFlags() throws {
    // `:ro` is xcsh's (xc has no read-only flag on -v); the rest is xc's syntax.
    let body = try bodies(
      "run -d busybox:latest -v data:/data:ro --ip 'eth0|10.0.0.5/24' --network 'backend|10.1.0.7' --main-address network/backend --persist --no-clean"
    )[0]
    #expect(body.contains(#""mount_req":[{"source":\#(Self.unix("data")),"dest":\#(Self.unix("/data")),"evid":null,"read_only":true}]"#))
    #expect(body.contains(#""ips":[{"network":null,"addresses":["10.0.0.5/24"],"interface":"eth0"}]"#))
    #expect(body.contains(#""ipreq":[{"Explicit":{"network":"backend","ip":"10.1.0.7"}}]"#))
    #expect(body.contains(#""main_ip_selector":"network/backend""#))
    #expect(body.contains(#""persist":true,"no_clean":true"#))
  }

  @Test func runJailFlags() throws {
    let layer = NSTemporaryDirectory() + "xcsh-layer-\(getpid()).tar"
    try "x".write(toFile: layer, atomically: true, encoding: .utf8)
    defer { unlink(layer) }
    let (_, reqs) = try run(
      "run -d busybox:latest --network g --net-group g -z DS:zroot/data --tap TAPIF --tun TUNIF --usdt --enable-pf --max-children 4 --extra-layer \(layer) -o host.hostname=h"
    )
    #expect(reqs.first?.body == Self.xcInstantiate([
      "image_reference": #""busybox:latest""#, "envs": #"{"DS":"zroot/data"}"#, "enable_usdt": "true",
      "ipreq": #"[{"Any":{"network":"g"}}]"#, "extra_layers": "[0]", "override_props": #"{"host.hostname":"h"}"#,
      "jail_datasets": #"["zroot/data"]"#, "children_max": "4", "netgroups": #"["g"]"#,
      "tap_interfaces": #"["TAPIF"]"#, "tun_interfaces": #"["TUNIF"]"#, "enable_pf": "true",
    ]))
    #expect(reqs.first?.descriptors == 1)
  }

  @Test func badFlagValuesNameTheFlagAndNeverReachTheDaemon() throws {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    for (code, text) in [
      ("run -d busybox:latest -p 8080", "`-p 8080`: missing `:PORT`"),
      ("run -d busybox:latest -v nodest", "`-v nodest`: missing `:DEST`"),
      ("run -d busybox:latest --ip '1x|10.0.0.1'", "`--ip 1x|10.0.0.1`: `1x` is not an interface name"),
      ("run -d busybox:latest -v /does/not/exist:/x", "no such host path `/does/not/exist`"),
      ("run -d busybox:latest --net-group g", "`--net-group g`: also give `--network g`"),
      ("run -d busybox:latest -z /abs", "`-z /abs`: expected `[VAR:]DATASET`"),
      ("run -d busybox:latest --dns-nop --dns 1.1.1.1", "`--dns-nop` cannot be combined"),
    ] {
      #expect {
        try xcsh(code, fake)
      } throws: { e in
        (e as? ShellError)?.message.contains(text) == true
      }
    }
    #expect(fake.requests.isEmpty)
  }

  @Test func createThenRunMainAndRdr() throws {
    let reqs = try bodies("let c = (create busybox:latest --name web -p 8080:80); run-main web; $c.status")
    #expect(reqs[0] == Self.xcInstantiate([
      "image_reference": #""busybox:latest""#, "entry_point": "null", "hostname": #""web""#, "name": #""web""#,
      "main_norun": "true", "init_norun": "true", "deinit_norun": "true", "dns": #""Nop""#, "create_only": "true",
    ]))
    #expect(reqs[1] == #"{"method":"rdr","value":{"name":"5f3c9a7e21b4","redirection":\#(Self.publish8080)}}"#)
    #expect(reqs[2] == #"{"method":"show_container","value":{"id":"5f3c9a7e21b4"}}"#)
    #expect(reqs[3] == Self.golden("run_main"))
  }

  @Test func goldenContainerMethods() throws {
    // As xc's; without --no-wait xcsh then polls list_containers until the teardown is done.
    #expect(try bodies("kill web --no-wait") == [Self.golden("kill_container")])
    #expect(try bodies("kill web", replies: ["list_containers": FakeDaemon.ok("[]")]) == [Self.golden("kill_container"), Self.golden("list_containers")])
    #expect(try bodies("show web") == [Self.golden("show_container")])
    // One list_rdr_rules per ps for the `ports` column (records carry none).
    #expect(try bodies("ps") == [Self.golden("list_containers"), Self.golden("list_rdr_rules")])
    #expect(try bodies("info") == [Self.golden("info")])
    #expect(try bodies("exec web -- /bin/ls -l /") == [Self.golden("exec")])
    #expect(try bodies("link web") == [Self.golden("link"), Self.golden("show_container"), #"{"method":"show_container","value":{"id":"5f3c9a7e21b4"}}"#])
    #expect(try bodies("commit web web-snap:1") == [Self.golden("commit"), #"{"method":"describe_image","value":"web-snap:1"}"#])
    #expect(try bodies("commit web --name web-snap --tag 1").first == Self.golden("commit"))
    #expect(try bodies("rdr add web -p 8080:80") == [Self.golden("rdr")])
    // xcd does not register list_site_rdr (spec §5.14): a container's rules are filtered from
    // list_rdr_rules by its addresses.
    #expect(try bodies("rdr list web") == [Self.golden("list_rdr_rules"), Self.golden("show_container")])
    #expect(try bodies("rdr list") == [Self.golden("list_rdr_rules")])
  }

  @Test func execSendsStdioThenNotifyLikeXc() throws {
    let (_, reqs) = try run("exec web -- /bin/ls -l /")
    #expect(reqs.first?.descriptors == 4)
    // -t: no stdio descriptors, TERM forwarded, the exit eventfd only (spec §4.5).
    setenv("TERM", "xterm", 1)
    let (_, tty) = try run("exec -t web -- /bin/sh", replies: ["exec": FakeDaemon.ok(#"{"pid":1,"stdout_log_file":null,"stderr_log_file":null,"terminal_socket":null}"#)])
    #expect(tty.map(\.body) == [Self.golden("exec_tty")])
    #expect(tty.first?.descriptors == 1)
  }

  @Test func objectsFromThePipeAndIdPrefixes() throws {
    // ps | where … | kill: the objects' names reach kill_container.
    #expect(
      try bodies("ps | where name == web | kill --no-wait") == [
        Self.golden("list_containers"), Self.golden("list_rdr_rules"), Self.golden("kill_container"),
      ])
    // An id prefix: xc matches exactly, so xcsh resolves it through list_containers.
    let kill: @Sendable (String) -> String = { body in
      body.contains(#""name":"5f3c9a7e21b4""#)
        ? #"{"errno":0,"value":{}}"# : #"{"errno":2,"value":{"error":"no such container: 5f3c"}}"#
    }
    #expect(try bodies("kill 5f3c --no-wait", replies: ["kill_container": kill]) == [
      #"{"method":"kill_container","value":{"name":"5f3c"}}"#, Self.golden("list_containers"),
      #"{"method":"kill_container","value":{"name":"5f3c9a7e21b4"}}"#,
    ])
  }

  @Test func idsThatReadAsNumbersStayWords() throws {
    #expect(try bodies("kill 608e6 --no-wait") == [#"{"method":"kill_container","value":{"name":"608e6"}}"#])
    #expect(try bodies("show 12345") == [#"{"method":"show_container","value":{"id":"12345"}}"#])
    #expect(try bodies("show 1d") == [#"{"method":"show_container","value":{"id":"1d"}}"#])
    #expect(try bodies("show 10kb") == [#"{"method":"show_container","value":{"id":"10kb"}}"#])
    let fake = try FakeDaemon()
    defer { fake.stop() }
    // A computed number is not an id.
    #expect(throws: ShellError.self) { try xcsh("kill (1 + 2)", fake) }
    #expect(fake.requests.isEmpty)
  }

  @Test func waitPollsShowContainerWithADeadline() throws {
    let (v, reqs) = try run("wait web --running | get status")
    #expect(v == .string("running"))
    #expect(reqs.map(\.body) == [Self.golden("show_container")])
    let fake = try FakeDaemon()
    defer { fake.stop() }
    #expect {
      try xcsh("wait web --exit --timeout 300ms --every 100ms", fake)
    } throws: { e in
      let e = e as! ShellError
      return e.code == "wait.timeout" && e.message.contains("`web` to exit")
    }
    #expect(fake.requests.count >= 2)
    #expect(fake.requests.dropFirst().allSatisfy { $0.body == #"{"method":"show_container","value":{"id":"5f3c9a7e21b4"}}"# })
  }

  @Test func runReplaceKeepsOrReplaces() throws {
    // The example container runs /bin/sh from freebsdxc/freebsd:13.2: the same request is kept.
    let (kept, reqs) = try run("run --replace --name web freebsdxc/freebsd:13.2 -- /bin/sh")
    #expect(reqs.map(\.method) == ["show_container"])
    #expect((kept.recordValue?["action"]) == .string("unchanged"))
    // Another image: stop it, wait until it is gone, make the new one.
    let killed = Mutex(false)
    let show: @Sendable (String) -> String = { body in
      if body.contains(#""id":"web""#), killed.withLock({ $0 }) { return FakeDaemon.snapshot("show_container_notfound") }
      return FakeDaemon.snapshot("show_container")
    }
    let kill: @Sendable (String) -> String = { _ in
      killed.withLock { $0 = true }
      return #"{"errno":0,"value":{}}"#
    }
    let (replaced, r2) = try run(
      "run --replace --name web busybox:latest", replies: ["show_container": show, "kill_container": kill])
    #expect(r2.map(\.method) == ["show_container", "kill_container", "show_container", "instantiate", "show_container"])
    #expect(replaced.recordValue?["action"] == .string("replaced"))
  }

  // MARK: Images and registries

  @Test func goldenImageMethods() throws {
    #expect(try bodies("images") == [Self.golden("list_all_images")])
    #expect(try bodies("image list") == [Self.golden("list_all_images")])
    #expect(try bodies("image show freebsdxc/freebsd:13.2") == [Self.golden("describe_image")])
    // remove_image succeeds when nothing matches: xcsh checks first that the image exists.
    #expect(try bodies("image rm index.docker.io/freebsdxc/freebsd:13.2") == [
      #"{"method":"describe_image","value":"index.docker.io/freebsdxc/freebsd:13.2"}"#, Self.golden("remove_image"),
    ])
    #expect(try bodies("purge") == [Self.golden("purge")])
    #expect(try bodies("image get-config freebsdxc/freebsd:13.2 | get default_entry_point") == [Self.golden("describe_image")])
    #expect(try bodies("image tag app:1 app:2") == [
      #"{"method":"xcsh.tag_image","value":{"image_reference":"app:1","new_reference":"app:2"}}"#,
      #"{"method":"describe_image","value":"app:2"}"#,
    ])
  }

  @Test func importAndSetConfigSendTheConfigFile() throws {
    let golden = Self.golden("replace_meta")
    let config = String(golden[golden.range(of: #""config":"#)!.upperBound...].dropLast(2))
    let cfg = NSTemporaryDirectory() + "xcsh-cfg-\(getpid()).json"
    try config.write(toFile: cfg, atomically: true, encoding: .utf8)
    defer { unlink(cfg) }
    let (v, reqs) = try run("image import \(cfg) base:1 -f \(cfg)")
    #expect(reqs.first?.body == Self.golden("fd_import"))
    #expect(reqs.first?.descriptors == 1)
    #expect(v.objectField("diff_id") == .string("sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"))
    #expect(try bodies("image set-config app:1 \(cfg)").first == golden)
    // A record works too: the config read back from the daemon, edited, written back.
    let patched = try bodies("image get-config app:1 | image set-config app:1")
    #expect(patched[1].hasPrefix(#"{"method":"replace_meta","value":{"image_reference":"app:1","config":{"version":"0.0.0+0","secure_level":0"#))
    let added = try bodies("image patch app:1 add-env --required DB_URL")
    #expect(added[0] == #"{"method":"describe_image","value":"app:1"}"#)
    #expect(added[1].contains(#""envs":{"DB_URL":{"description":null,"required":true,"default_value":null}}"#))
  }

  @Test func pullPollsUntilDoneDespiteTheQuirkFault() throws {
    let (_, reqs) = try run("pull freebsdxc/freebsd:13.2")
    #expect(reqs.map(\.body) == [
      Self.golden("pull_image"), Self.golden("download_stat"), Self.golden("download_stat"), Self.golden("describe_image"),
    ])
    let failing: @Sendable (String) -> String = { _ in
      #"{"errno":0,"value":{"state":"DownloadLayers","manifest":null,"config":null,"layers":null,"fault":"client error: 401"}}"#
    }
    let fake = try FakeDaemon(replies: ["download_stat": failing])
    defer { fake.stop() }
    #expect {
      try xcsh("pull freebsdxc/freebsd:13.2", fake)
    } throws: { e in
      (e as? ShellError)?.message == "pull of `freebsdxc/freebsd:13.2` failed: client error: 401"
    }
  }

  @Test func pushAndLogin() throws {
    #expect(try bodies("push app:1 localhost:5000/app:1 --insecure") == [Self.golden("push_image"), Self.golden("upload_stat")])
    #expect(try bodies("login registry.example.com -u alice -p s3cret") == [Self.golden("login")])
  }

  @Test func copyInAndOutSendTheArchiveDescriptor() throws {
    let dir = NSTemporaryDirectory() + "xcsh-cp-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "hi".write(toFile: dir + "/f", atomically: true, encoding: .utf8)
    // A path without a trailing "/" may name the copy (`rename`); with one it is a directory.
    let (_, reqs) = try run("cp \(dir)/f web:/tmp/new-name; cp \(dir)/f web:/tmp/")
    #expect(reqs.map(\.body) == [
      #"{"method":"xcsh.copy_in","value":{"name":"web","path":"/tmp/new-name","fd":0,"rename":true}}"#,
      #"{"method":"xcsh.copy_in","value":{"name":"web","path":"/tmp/","fd":0,"rename":null}}"#,
    ])
    #expect(reqs.map(\.descriptors) == [1, 1])
    // The fake writes no archive, so the host's tar fails afterwards: the request is what counts.
    let (_, out) = try run("try { cp web:/etc/hosts \(dir) } catch e { $e.code }")
    #expect(out.map(\.body) == [#"{"method":"xcsh.copy_out","value":{"name":"web","path":"/etc/hosts","fd":0}}"#])
    let fake = try FakeDaemon()
    defer { fake.stop() }
    for (code, text) in [("cp a b", "one side must be `CONTAINER:/PATH`"), ("cp /nope/x web:/tmp", "no such host path `/nope/x`")] {
      #expect {
        try xcsh(code, fake)
      } throws: { e in
        (e as? ShellError)?.message.contains(text) == true
      }
    }
    #expect(fake.requests.isEmpty)
  }

  // MARK: Networks and volumes

  @Test func networkCommands() throws {
    #expect(try bodies("network create default 172.16.0.0/24 --alias xc0 --bridge xc0 --default-router 172.16.0.254") == [
      Self.golden("create_network"), Self.golden("list_networks"),
    ])
    #expect(try bodies("networks") == [Self.golden("list_networks")])
    #expect(try bodies("network tag g web --no-commit", replies: ["add-netgroup": FakeDaemon.ok("null")]) == [Self.golden("add-netgroup")])
    #expect(try bodies("network commit-tag g", replies: ["commit_netgroup": FakeDaemon.ok("null")]) == [Self.golden("commit_netgroup")])
    #expect(try bodies("rdr show-rules") == [Self.golden("list_rdr_rules")])
    #expect(try bodies("network list") == [Self.golden("list_networks")])
    #expect(try bodies("networks | network rm") == [Self.golden("list_networks"), #"{"method":"xcsh.remove_network","value":{"name":"default"}}"#])
    let (same, r1) = try run("network ensure default 172.16.0.0/24 --alias xc0")
    #expect(same.recordValue?["action"] == .string("unchanged"))
    #expect(r1.map(\.method) == ["list_networks"])
    let (other, r2) = try run("network ensure default 10.9.0.0/24")
    #expect(other.recordValue?["action"] == .string("replaced"))
    #expect(r2.map(\.method) == ["list_networks", "xcsh.remove_network", "create_network", "list_networks"])
    let (made, r3) = try run("network ensure fresh")
    #expect(made.recordValue?["action"] == .string("created"))
    #expect(r3[1].body == #"{"method":"create_network","value":{"name":"fresh","alias_iface":null,"bridge_iface":null,"subnet":null,"start_addr":null,"end_addr":null,"default_router":null}}"#)
  }

  @Test func volumeCommands() throws {
    #expect(try bodies("volume create data zfs -o compression=lz4") == [Self.golden("create_volume"), Self.golden("list_volumes")])
    #expect(try bodies("volume create db directory --image mariadb:10.9 --volume data").first == Self.golden("create_volume_template"))
    #expect(try bodies("volumes | get name") == [Self.golden("list_volumes")])
    #expect(try run("volumes | get name").0 == .list([.string("data")]))
    #expect(try bodies("volume rm data") == [#"{"method":"xcsh.remove_volume","value":{"name":"data"}}"#])
    let (same, _) = try run("volume ensure data zfs")
    #expect(same.recordValue?["action"] == .string("unchanged"))
  }
}

extension Value {
  func objectField(_ name: String) -> Value? {
    if case .object(let o) = kind { return o.fields[name] }
    return recordValue?[name]
  }
}

/// A terminal socket that greets the first client and closes, as a pty whose process exits.
final class TerminalServer: @unchecked Sendable {
  let path: String
  private let listener: Socket
  private let done = Mutex(false)
  var served: Bool { done.withLock { $0 } }

  init(greeting: String) throws {
    path = NSTemporaryDirectory() + "xcsh-term-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    listener = try Socket.listen(onUnixPath: path)
    let t = Thread { [self] in
      guard let c = try? listener.accept() else { return }
      _ = try? c.fileDescriptor.writeAll(Array(greeting.utf8))
      done.withLock { $0 = true }
      try? c.close()
    }
    t.start()
  }

  func stop() {
    try? listener.shutdown(.readWrite)
    try? listener.close()
    unlink(path)
  }
}
