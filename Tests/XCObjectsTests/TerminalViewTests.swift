import Testing
import XCIPC

@testable import XCObjects
@testable import XCShell

/// What a terminal shows for daemon objects (issue 18): `ps` in curated columns with ages,
/// one line for what state-changing commands return, nested cells inline; the values keep
/// every field, and times are datetimes.
@Suite(.serialized) struct TerminalViewTests {
  func rendered(_ code: String, tty: Bool = true) throws -> String {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    let v = try xcsh(code, fake)
    var options = ShellOptions()
    options.stdoutIsTTY = tty
    options.terminalWidth = 200
    return Renderer(options).render(v)
  }

  @Test func psShowsCuratedColumnsAndAges() throws {
    let text = try rendered("ps")
    let header = text.split(separator: "\n")[1]
    for column in ["name", "id", "image", "status", "ip", "age"] { #expect(header.contains(" \(column) "), "\(text)") }
    #expect(!text.contains("devfs_ruleset_id"), "\(text)")
    // Created 2024-05-31 (the recorded xc answer): years ago.
    #expect(text.contains("y ago"), "\(text)")
    #expect(text.contains("web") && text.contains("5f3c9a7e21b4") && text.contains("172.16.0.2"), "\(text)")
    // Not a terminal: every field, as before.
    #expect(try rendered("ps", tty: false).contains("devfs_ruleset_id"))
  }

  /// `ps` asks for the daemon's redirection rules once and joins them to the containers by
  /// address (xc's records carry no ports; `dest_addr` is the main address).
  @Test func psJoinsPublishedPortsOnce() throws {
    let rules = [
      // web's main address: two protocols.
      #"{"ifaces":["em0"],"proto":["Tcp","Udp"],"origin":[],"addresses":null,"source_port":{"Single":8080},"dest_port":80,"dest_addr":"172.16.0.2/32"}"#,
      // web, one host address, a range.
      #"{"ifaces":["em0"],"proto":["Tcp"],"origin":[],"addresses":["127.0.0.1/32"],"source_port":{"Range":[9000,9010]},"dest_port":9000,"dest_addr":"172.16.0.2"}"#,
      // Another container's, and a loopback destination every record lists on lo0: not web's.
      #"{"ifaces":["em0"],"proto":["Tcp"],"origin":[],"addresses":null,"source_port":{"Single":443},"dest_port":443,"dest_addr":"172.16.0.3/32"}"#,
      #"{"ifaces":["em0"],"proto":["Tcp"],"origin":[],"addresses":null,"source_port":{"Single":22},"dest_port":22,"dest_addr":"127.0.0.1/32"}"#,
    ]
    let fake = try FakeDaemon(replies: ["list_rdr_rules": FakeDaemon.ok("[" + rules.joined(separator: ",") + "]")])
    defer { fake.stop() }
    let ports = try xcsh("ps | first | get ports | to json", fake).plain
    #expect(ports == #"["8080->80/tcp","8080->80/udp","127.0.0.1:9000-9010->9000/tcp"]"#, "\(ports)")
    #expect(fake.methods == ["list_containers", "list_rdr_rules"])
    var options = ShellOptions()
    options.stdoutIsTTY = true
    options.terminalWidth = 200
    let text = Renderer(options).render(try xcsh("ps", fake))
    #expect(text.split(separator: "\n")[1].contains(" ports "), "\(text)")
    #expect(text.contains("8080->80/tcp, 8080->80/udp, 127.0.0.1:9000-9010->9000/tcp"), "\(text)")
    // No container, no rules asked for.
    let empty = try FakeDaemon(replies: ["list_containers": FakeDaemon.ok("[]")])
    defer { empty.stop() }
    _ = try xcsh("ps", empty)
    #expect(empty.methods == ["list_containers"])
  }

  @Test func theFullRecordIsOneSelectAway() throws {
    let fake = try FakeDaemon()
    defer { fake.stop() }
    let n = try xcsh("ps | first | columns | length", fake).plain
    // 29 of the record, status, exit_code, ip, health, restarts (34, as `create` returns), and
    // `ports`, which `ps` joins.
    #expect(n == "35", "\(n)")
    #expect(try xcsh("ps | first | get created | describe", fake).plain == "datetime")
    #expect(try xcsh("ps | first | get processes.main.started | describe", fake).plain == "datetime")
    #expect(try xcsh("ps | first | get created | to json", fake).plain == #""2024-05-31T16:08:36.912345678Z""#)
    let d = try xcsh("(ps | first | get started) - (ps | first | get created)", fake).plain
    #expect(d == "88888.889us", "\(d)")
  }

  @Test func stateChangingCommandsShowOneLine() throws {
    #expect(try rendered("create freebsdxc/freebsd:13.2") == "container web 5f3c9a7e21b4 running freebsdxc/freebsd:13.2 172.16.0.2\n")
    #expect(try rendered("run -d freebsdxc/freebsd:13.2") == "container web 5f3c9a7e21b4 running freebsdxc/freebsd:13.2 172.16.0.2\n")
    #expect(try rendered("network ensure default 172.16.0.0/24") == "unchanged: network default 172.16.0.0/24 xc0\n")
    // `show` is for looking: the whole record, one field a line.
    #expect(try rendered("show web").split(separator: "\n").count > 20)
    // The value itself is complete.
    let fake = try FakeDaemon()
    defer { fake.stop() }
    let n = try xcsh("create freebsdxc/freebsd:13.2 | columns | length", fake).plain
    #expect(n == "34", "\(n)")  // 29 of the record, status, exit_code, ip, health, restarts
  }

  @Test func nestedCellsAreInline() throws {
    var options = ShellOptions()
    options.stdoutIsTTY = true
    options.terminalWidth = 200
    let shell = Shell(options: options)
    let v = try shell.evaluate(SourceMap.shared.add(name: "<t>", text: "[{a: {b: 1, c: [x, y]}, d: []}]"))
    let text = Renderer(options).render(v)
    #expect(text.contains("{b: 1, c: [x, y]}"), "\(text)")
    #expect(!text.contains("record 2 fields"), "\(text)")
  }
}
