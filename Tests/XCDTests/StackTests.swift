import Foundation
import Glibc
import Testing
import XCIPC

/// `stack up|ps|down` through xcsh against the real xcd: a Compose file of three services on
/// two networks comes up, is unchanged by a second `up`, replaces only the service whose image
/// changed, serves from the host and by service name inside the stack, and goes down leaving
/// nothing (containers, mounts, veths, netns, dnat rules, leases, bridges, volumes). A failing
/// `up` removes what it made.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, netns, nftables)"))
struct StackTests {
  let e2e = ObjectCommandsE2ETests()
  let nt = NetworkTests()

  func compose(port: Int, octet: Int) -> String {
    """
    services:
      web:
        image: busybox:latest
        command: sh -c 'mkdir -p /www && echo "$$GREETING" > /www/index.html && exec httpd -f -p 8000 -h /www'
        environment:
          GREETING: ${GREETING:-hello from web}
        ports: ["127.0.0.1:\(port):8000"]
        networks: [front]
        volumes: [data:/data]
      api:
        image: busybox:latest
        command: sh -c 'mkdir -p /www && echo api > /www/index.html && exec httpd -f -p 9000 -h /www'
        networks: [back]
      client:
        image: busybox:${CLIENT_TAG:-latest}
        depends_on: [web, api]
        command: sleep 1000
        networks: [front, back]
    networks:
      front:
      back:
        ipam:
          config: [{subnet: 10.217.\(octet).0/24}]
    volumes:
      data:
    """
  }

  /// The output of a script that must succeed, without its last newline.
  func ok(_ code: String, _ daemon: DaemonHarness, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try e2e.ok(code, daemon, sourceLocation: sourceLocation).trimmingCharacters(in: .newlines)
  }

  /// `{action, object.name}` of each step, as `action name` lines.
  func steps(_ out: String) -> [String] { out.split(separator: "\n").map(String.init) }


  @Test func upPsDownLeaveNothing() throws {
    let tag = String(UInt32.random(in: 0x1000..<0xffff), radix: 16)
    let project = "st\(tag)"
    let octet = Int.random(in: 1...250)
    var bridges: [String] = []
    defer {
      for b in bridges where linkExists(b) {
        Issue.record("bridge \(b) left behind")
        NetworkCount.deleteLink(b)
      }
    }
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      try Fixtures.importImage(client, reference: "busybox:two")
      let clean = try LeakCount.of(daemon)
      let dir = daemon.dir + "/stack"
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      let file = dir + "/compose.yaml"
      let port = try nt.freePort()
      try compose(port: port, octet: octet).write(toFile: file, atomically: true, encoding: .utf8)
      let each = "each { |s| \"$s.action $s.object.name\" } | str join \"\\n\""

      let first = steps(try ok("stack up \(file) -p \(project) | \(each)", daemon))
      #expect(
        first == [
          "created \(project)-front", "created \(project)-back", "created \(project)-data", "created \(project)-web-1",
          "created \(project)-api-1", "created \(project)-client-1",
        ], "\(first)")
      bridges = try client.call(ListNetworksRequest()).networkInfo.filter { $0.name.hasPrefix(project) }.compactMap(\.bridgeIface)
      #expect(bridges.count == 2)

      // Unchanged on a second `up`.
      let second = steps(try ok("stack up \(file) -p \(project) | \(each)", daemon))
      #expect(second.allSatisfy { $0.hasPrefix("unchanged ") } && second.count == 6, "\(second)")

      // The containers, as objects; the web server from the host and, by name, from the client.
      let names = try ok("stack ps \(project) | get name | str join ' '", daemon)
      #expect(names == "\(project)-api-1 \(project)-client-1 \(project)-web-1", "\(names)")
      _ = try ok("wait \(project)-web-1 --port 8000 --timeout 30s | ignore; wait \(project)-api-1 --port 9000 --timeout 30s | ignore", daemon)
      #expect(try nt.httpGet(port: port).contains("hello from web"))
      let fetched = try ok("exec \(project)-client-1 -- wget -q -O - http://web:8000/; exec \(project)-client-1 -- wget -q -O - http://api:9000/", daemon)
      #expect(fetched == "hello from web\napi", "\(fetched)")
      // web and api share no network: web cannot resolve api.
      let (apart, _, _) = try e2e.xcsh("exec \(project)-web-1 -- wget -q -T 2 -O - http://api:9000/", daemon)
      #expect(apart != 0)

      // The client's image changes (through the project's `.env`): only the client is replaced.
      try "CLIENT_TAG=two\n".write(toFile: dir + "/.env", atomically: true, encoding: .utf8)
      let third = steps(try ok("stack up \(file) -p \(project) | where action != unchanged | \(each)", daemon))
      #expect(third == ["replaced \(project)-client-1"], "\(third)")
      #expect(try ok("stack ps \(file) -p \(project) | where name =~ client | get image_reference | first", daemon) == "busybox:two")

      // A file without `api`: its container is listed as orphaned, then removed on request.
      let smaller = dir + "/smaller.yaml"
      try compose(port: port, octet: octet).replacingOccurrences(
        of: "  api:\n    image: busybox:latest\n    command: sh -c 'mkdir -p /www && echo api > /www/index.html && exec httpd -f -p 9000 -h /www'\n    networks: [back]\n",
        with: ""
      ).replacingOccurrences(of: "depends_on: [web, api]", with: "depends_on: [web]").write(toFile: smaller, atomically: true, encoding: .utf8)
      let orphaned = steps(try ok("stack up \(smaller) -p \(project) | where action != unchanged | \(each)", daemon))
      #expect(orphaned == ["orphaned \(project)-api-1"], "\(orphaned)")
      let pruned = steps(try ok("stack up \(smaller) -p \(project) --remove-orphans | where action != unchanged | \(each)", daemon))
      #expect(pruned == ["removed \(project)-api-1"], "\(pruned)")
      #expect(try ok("stack ps \(project) | length", daemon) == "2")

      // Down (by file): containers and networks go, the volume stays until `--volumes`.
      let down = steps(try ok("stack down \(file) -p \(project) | \(each)", daemon))
      // The two live containers, the ended ones (the client it replaced, the orphan), the two
      // networks.
      #expect(down.count == 6 && down.allSatisfy { $0.hasPrefix("removed ") }, "\(down)")
      #expect(try ok("ps --all | length", daemon) == "0")
      #expect(try client.call(ListContainersRequest()).isEmpty)
      #expect(try client.call(ListNetworksRequest()).networkInfo.allSatisfy { !$0.name.hasPrefix(project) })
      #expect(try client.call(ListVolumesRequest())["\(project)-data"] != nil)
      let volumes = steps(try ok("stack down \(project) --volumes | \(each)", daemon))
      #expect(volumes == ["removed \(project)-data"], "\(volumes)")
      // Again: nothing to do.
      #expect(try ok("stack down \(project) --volumes | length", daemon) == "0")
      #expect(try LeakCount.settle(daemon, to: clean) == clean)
      for b in bridges { #expect(!linkExists(b), "bridge \(b) left") }
    }
  }

  @Test func aFailingUpRemovesWhatItMade() throws {
    let project = "sf\(String(UInt32.random(in: 0x1000..<0xffff), radix: 16))"
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let clean = try LeakCount.of(daemon)
      let file = daemon.dir + "/broken.yaml"
      try """
        services:
          one:
            image: busybox:latest
            command: sleep 1000
          two:
            image: nosuch:image
            depends_on: [one]
        volumes:
          data:
        """.write(toFile: file, atomically: true, encoding: .utf8)
      let (status, _, err) = try e2e.xcsh("stack up \(file) -p \(project)", daemon)
      #expect(status != 0)
      #expect(err.contains("nosuch:image"), "\(err)")
      // The network, the volume and `one` were made by this `up`, and removed again.
      #expect(try client.call(ListContainersRequest()).isEmpty)
      #expect(try client.call(ListNetworksRequest()).networkInfo.allSatisfy { $0.name != project })
      #expect(try client.call(ListVolumesRequest())["\(project)-data"] == nil)
      #expect(try LeakCount.settle(daemon, to: clean) == clean)
    }
  }

  /// A stack given as a record, its web service at `replicas` containers.
  func replicated(_ project: String, replicas: Int) -> String {
    let web = #"{image: "busybox:latest", command: ["sh", "-c", "mkdir -p /www && echo web > /www/index.html && exec httpd -f -p 8000 -h /www"], deploy: {replicas: \#(replicas)}}"#
    let client = #"{image: "busybox:latest", command: ["sleep", "1000"], depends_on: ["web"]}"#
    return #"{name: "\#(project)", services: {web: \#(web), client: \#(client)}}"#
  }

  @Test func replicasOfARecordScaleUpAndDown() throws {
    let project = "sr\(String(UInt32.random(in: 0x1000..<0xffff), radix: 16))"
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let clean = try LeakCount.of(daemon)
      let each = "each { |s| \"$s.action $s.object.name\" } | str join \"\\n\""

      let first = steps(try ok("stack up \(replicated(project, replicas: 3)) | \(each)", daemon))
      #expect(
        first == [
          "created \(project)", "created \(project)-web-1", "created \(project)-web-2", "created \(project)-web-3",
          "created \(project)-client-1",
        ], "\(first)")
      #expect(try ok("stack ps \(project) | get name | str join ' '", daemon)
        == "\(project)-client-1 \(project)-web-1 \(project)-web-2 \(project)-web-3")
      // Each replica answers by its container name; `web` names one of them.
      for n in 1...3 { _ = try ok("wait \(project)-web-\(n) --port 8000 --timeout 30s | ignore", daemon) }
      let fetched = try ok(
        "exec \(project)-client-1 -- wget -q -O - http://\(project)-web-3:8000/; exec \(project)-client-1 -- wget -q -O - http://web:8000/", daemon)
      #expect(fetched == "web\nweb", "\(fetched)")

      // Fewer replicas: the extra ones are removed, the rest unchanged.
      let down = steps(try ok("stack up \(replicated(project, replicas: 1)) | where action != unchanged | \(each)", daemon))
      #expect(down == ["removed \(project)-web-2", "removed \(project)-web-3"], "\(down)")
      #expect(try ok("stack ps \(project) | length", daemon) == "2")
      #expect(try client.call(ListContainersRequest()).count == 2)
      // More again: only the new one is created.
      let up = steps(try ok("stack up \(replicated(project, replicas: 2)) | where action != unchanged | \(each)", daemon))
      #expect(up == ["created \(project)-web-2"], "\(up)")

      // Down by the record: everything goes.
      let gone = steps(try ok("stack down \(replicated(project, replicas: 2)) | where action == removed | \(each)", daemon))
      #expect(gone.contains("removed \(project)-web-2") && gone.contains("removed \(project)"), "\(gone)")
      #expect(try ok("ps --all | length", daemon) == "0")
      #expect(try client.call(ListNetworksRequest()).networkInfo.allSatisfy { $0.name != project })
      #expect(try LeakCount.settle(daemon, to: clean) == clean)
    }
  }

  @Test func aServiceBuildsItsImageFirst() throws {
    let project = "sb\(String(UInt32.random(in: 0x1000..<0xffff), radix: 16))"
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let clean = try LeakCount.of(daemon)
      let dir = daemon.dir + "/\(project)"
      try FileManager.default.createDirectory(atPath: dir + "/app", withIntermediateDirectories: true)
      try "ARG GREETING\nFROM busybox:latest\nRUN mkdir -p /www && echo \"built $GREETING\" > /www/index.html\n"
        .write(toFile: dir + "/app/Jailfile", atomically: true, encoding: .utf8)
      func compose(_ greeting: String) throws {
        try """
          name: \(project)
          services:
            app:
              build: {context: ./app, args: {GREETING: \(greeting)}}
              command: sleep 1000
          """.write(toFile: dir + "/compose.yaml", atomically: true, encoding: .utf8)
      }
      let actions = "each { |s| $s.action } | str join ' '"
      let cat = "exec \(project)-app-1 -- cat /www/index.html"
      try compose("one")
      #expect(try ok("stack up \(dir)/compose.yaml | \(actions)", daemon) == "created created created")
      #expect(try ok("images | where image_reference == '\(project)-app:latest' | length", daemon) == "1")
      #expect(try ok(cat, daemon) == "built one")
      // An image on the daemon is used as it is (as Compose does)…
      try compose("two")
      #expect(try ok("stack up \(dir)/compose.yaml | \(actions)", daemon) == "unchanged unchanged unchanged")
      // …until `--build`: the rebuilt image replaces the container.
      #expect(try ok("stack up \(dir)/compose.yaml --build | \(actions)", daemon) == "replaced unchanged replaced")
      #expect(try ok(cat, daemon) == "built two")

      _ = try ok("stack down \(dir)/compose.yaml | ignore", daemon)
      #expect(try client.call(ListContainersRequest()).isEmpty)
      #expect(try client.call(ListNetworksRequest()).networkInfo.allSatisfy { $0.name != project })
      // Built images are kept, as Compose keeps them.
      _ = try client.call(RemoveImageRequest(imageReference: "\(project)-app:latest"))
      #expect(try LeakCount.settle(daemon, to: clean) == clean)
    }
  }

  func linkExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "/sys/class/net/\(name)") }
}
