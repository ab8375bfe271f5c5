import Foundation
import Testing
import XCTestSupport

@testable import XCObjects

/// `stack up --dry-run` against the fake daemon: the plan lines are the calls `up` would make,
/// in order, and nothing reaches the daemon.
@Suite(.serialized) struct StackDryRunTests {
  static let compose = """
    name: drytest
    services:
      web:
        image: busybox:latest
        command: httpd -f -p 80
        ports: ["18080:80"]
        volumes: [data:/data, ./site:/www:ro]
        networks: [front, back]
        depends_on: [db]
      db:
        image: busybox:latest
        environment: {ROLE: "${ROLE:-primary}"}
        networks: [back]
    networks:
      front:
      back:
        ipam:
          config: [{subnet: 10.66.0.0/24}]
    volumes:
      data:
    """

  /// Runs `code` with `xcsh --dry-run` in a directory holding the Compose file; (status,
  /// stdout, stderr).
  func dryRun(_ code: String, _ fake: FakeDaemon) throws -> (Int32, String, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xcsh-stack-dry-\(getpid())").path
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir + "/site", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.compose.write(toFile: dir + "/compose.yaml", atomically: true, encoding: .utf8)
    let r = try ProgramRun.run(
      DocExamplesTests.binary, ["--dry-run", "--socket", fake.path, "-c", code], cwd: dir, environment: ["NO_COLOR": "1"])
    return (r.status, r.stdout, r.stderr)
  }

  /// A daemon with none of the stack's objects.
  func emptyDaemon() throws -> FakeDaemon {
    try FakeDaemon(replies: [
      "list_networks": FakeDaemon.ok(#"{"network_info":[]}"#), "list_volumes": FakeDaemon.ok("{}"),
      "show_container": { _ in #"{"errno":2,"value":{"error":"no such container"}}"# },
    ])
  }

  @Test func thePlanIsTheCallsInOrder() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, stdout, stderr) = try dryRun("stack up compose.yaml | each { |s| \"$s.action $s.object.name\" } | str join ','", fake)
    #expect(status == 0, "\(stderr)")
    let plan = stderr.split(separator: "\n").filter { $0.hasPrefix("+ ") }.map(String.init)
    #expect(plan.count == 5, "\(stderr)")
    guard plan.count == 5 else { return }
    #expect(plan[0].hasPrefix("+ create_network name=drytest-front subnet=10.2"), "\(plan[0])")
    #expect(plan[1] == "+ create_network name=drytest-back subnet=10.66.0.0/24")
    #expect(plan[2].hasPrefix("+ create_volume name=drytest-data"), "\(plan[2])")
    // db before web (web depends on it); each on its networks, in their groups, labelled.
    #expect(plan[3].hasPrefix("+ instantiate image=busybox:latest name=drytest-db-1"), "\(plan[3])")
    #expect(plan[3].contains("network=drytest-back") && plan[3].contains("ROLE=primary") && plan[3].contains("XCSH_STACK=drytest"), "\(plan[3])")
    #expect(plan[4].hasPrefix("+ instantiate image=busybox:latest name=drytest-web-1"), "\(plan[4])")
    #expect(plan[4].contains("publish=18080:80") && plan[4].contains("drytest-data:/data"), "\(plan[4])")
    #expect(plan[4].contains("/site:/www:ro") && plan[4].contains(#"cmd="httpd -f -p 80""#), "\(plan[4])")
    #expect(stdout.contains("created drytest-front,created drytest-back,created drytest-data,created drytest-db-1,created drytest-web-1"), "\(stdout)")
  }

  @Test func anUnsupportedKeyStopsBeforeAnyCall() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(
      "'services:\n  web:\n    image: busybox:latest\n    working_dir: /srv\n' | save -f bad.yaml; stack up bad.yaml -p bad", fake)
    #expect(status != 0)
    #expect(stderr.contains("bad.yaml:4:5: `working_dir:` is not supported"), "\(stderr)")
    #expect(!stderr.contains("+ "), "\(stderr)")
  }

  @Test func aRestartPolicyOnADaemonWithoutTheExtensionsStopsBeforeAnyCall() throws {
    let fake = try emptyDaemon()  // answers like xc's daemon: no xcsh extensions
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(
      "'services:\n  web:\n    image: busybox:latest\n    restart: always\n' | save -f r.yaml; stack up r.yaml -p r", fake)
    #expect(status != 0)
    #expect(stderr.contains("`restart:`/`healthcheck:` (service `web`) is not supported by this daemon"), "\(stderr)")
    #expect(!stderr.contains("+ "), "\(stderr)")
  }

  @Test func aMissingExternalNetworkIsNamedBeforeAnythingIsMade() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(
      "'services:\n  web:\n    image: busybox:latest\n    networks: [lan]\nnetworks:\n  lan:\n    external: true\n    name: lan0\n' | save -f ext.yaml; stack up ext.yaml -p ext", fake)
    #expect(status != 0)
    #expect(stderr.contains("ext.yaml:6:3: external network `lan0` is not on the daemon"), "\(stderr)")
    #expect(!stderr.contains("+ "), "\(stderr)")
  }
  /// Compose's `${VAR}` reads the shell's environment: `$env.NAME = …` before `stack up` counts.
  @Test func interpolationSeesTheShellsEnvironment() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(
      "'services:\n  web:\n    image: busybox:${XCSH_CASE_TAG}\n' | save -f env.yaml; $env.XCSH_CASE_TAG = \"1.36\"; stack up env.yaml -p envtest | ignore",
      fake)
    #expect(status == 0, "\(stderr)")
    #expect(stderr.contains("+ instantiate image=busybox:1.36 name=envtest-web-1"), "\(stderr)")
  }

  @Test func aRecordIsPlannedLikeAFile() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, stdout, stderr) = try dryRun(
      #"stack up {name: "rec", services: {web: {image: "busybox:latest", command: ["httpd", "-f"], environment: {A: "x y"}}}} | each { |s| "$s.action $s.object.name" } | str join ','"#,
      fake)
    #expect(status == 0, "\(stderr)")
    let plan = stderr.split(separator: "\n").filter { $0.hasPrefix("+ ") }.map(String.init)
    #expect(plan.count == 2, "\(stderr)")
    guard plan.count == 2 else { return }
    #expect(plan[0].hasPrefix("+ create_network name=rec subnet=10.2"), "\(plan[0])")
    #expect(plan[1].hasPrefix("+ instantiate image=busybox:latest name=rec-web-1"), "\(plan[1])")
    #expect(plan[1].contains("XCSH_STACK=rec") && plan[1].contains(#"cmd="httpd -f""#), "\(plan[1])")
    #expect(stdout.contains("created rec,created rec-web-1"), "\(stdout)")
  }

  @Test func aBadRecordNamesTheKeyPathAndTheCall() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(
      #"let s = {name: "rec", services: {web: {image: "busybox:latest", working_dir: "/srv"}}}; stack up $s"#, fake)
    #expect(status != 0)
    #expect(stderr.contains("stack record at `services.web.working_dir`: `working_dir:` is not supported"), "\(stderr)")
    #expect(stderr.contains("1:"), "the call's place: \(stderr)")
    #expect(!stderr.contains("+ "), "\(stderr)")
    let (noName, _, noNameErr) = try dryRun(#"stack up {services: {web: {image: "busybox:latest"}}}"#, fake)
    #expect(noName != 0 && noNameErr.contains("a stack record needs a `name` key or `-p NAME`"), "\(noNameErr)")
    let (byP, _, byPErr) = try dryRun(#"stack down {services: {web: {image: "busybox:latest"}}} -p recp"#, fake)
    #expect(byP == 0, "\(byPErr)")
  }

  /// A daemon whose live containers are `names`, each labelled as project `p`'s `service`.
  func daemonWith(_ containers: [(name: String, service: String)]) throws -> FakeDaemon {
    let snapshot = try JSONSerialization.jsonObject(with: Data(FakeDaemon.snapshot("list_containers").utf8)) as! [String: Any]
    let template = (snapshot["value"] as! [[String: Any]])[0]
    var list: [[String: Any]] = []
    for (i, c) in containers.enumerated() {
      var m = template
      m["name"] = c.name
      m["id"] = String(format: "%012x", 0xabc000 + i)
      var proto = m["main_proto"] as! [String: Any]
      proto["envs"] = ["XCSH_STACK": "p", "XCSH_STACK_SERVICE": c.service]
      m["main_proto"] = proto
      list.append(m)
    }
    let body = String(decoding: try JSONSerialization.data(withJSONObject: ["errno": 0, "value": list]), as: UTF8.self)
    return try FakeDaemon(replies: [
      "list_networks": FakeDaemon.ok(#"{"network_info":[]}"#), "list_volumes": FakeDaemon.ok("{}"),
      "show_container": { _ in #"{"errno":2,"value":{"error":"no such container"}}"# },
      "list_containers": { _ in body },
    ])
  }

  @Test func replicasAreContainersOneToN() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, stdout, stderr) = try dryRun(
      #"stack up {name: "p", services: {web: {image: "busybox:latest", deploy: {replicas: 3}}}} | each { |s| "$s.action $s.object.name" } | str join ','"#,
      fake)
    #expect(status == 0, "\(stderr)")
    let names = stderr.split(separator: "\n").filter { $0.hasPrefix("+ instantiate") }.map { $0.split(separator: " ")[3] }
    #expect(names == ["name=p-web-1", "name=p-web-2", "name=p-web-3"], "\(stderr)")
    #expect(stdout.contains("created p,created p-web-1,created p-web-2,created p-web-3"), "\(stdout)")
  }

  @Test func fewerReplicasRemoveTheExtraOnesAndOrphansAreListed() throws {
    let fake = try daemonWith([("p-web-2", "web"), ("p-web-3", "web"), ("p-old-1", "old")])
    defer { fake.stop() }
    let (status, stdout, stderr) = try dryRun(
      #"stack up {name: "p", services: {web: {image: "busybox:latest", scale: 1}}} | each { |s| "$s.action $s.object.name" } | str join ','"#,
      fake)
    #expect(status == 0, "\(stderr)")
    let plan = stderr.split(separator: "\n").filter { $0.hasPrefix("+ ") }.map(String.init)
    #expect(plan.filter { $0.hasPrefix("+ kill_container") }.count == 2, "\(stderr)")
    #expect(stdout.contains("created p-web-1,removed p-web-2,removed p-web-3,orphaned p-old-1"), "\(stdout)")
  }

  @Test func publishedPortsWithReplicasAreAConflict() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(
      #"stack up {name: "p", services: {web: {image: "busybox:latest", ports: ["8080:80"], scale: 2}}}"#, fake)
    #expect(status != 0)
    #expect(stderr.contains("stack record at `services.web.ports[0]`: service `web` publishes host port `8080:80` with 2 replicas: a port conflict"), "\(stderr)")
    #expect(!stderr.contains("+ "), "\(stderr)")
  }
  @Test func buildsComeBeforeEverythingElse() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, stdout, stderr) = try dryRun(
      #"mkdir app; "FROM busybox:latest\nRUN echo built > /built\n" | save -f app/Jailfile; stack up {name: "b", services: {app: {build: "app", command: ["cat", "/built"]}}} | each { |s| $s.action } | str join ','"#,
      fake)
    #expect(status == 0, "\(stderr)")
    let plan = stderr.split(separator: "\n").filter { $0.hasPrefix("+ ") }.map(String.init)
    // The build (its FROM, RUN and commit), then the network, then the container of the image.
    let instantiate = plan.firstIndex { $0.hasPrefix("+ instantiate image=busybox:latest") }
    let run = plan.firstIndex { $0.hasPrefix("+ exec") && $0.contains("echo built") }
    let commit = plan.firstIndex { $0.hasPrefix("+ commit") && $0.contains("b-app") }
    let network = plan.firstIndex { $0.hasPrefix("+ create_network name=b ") }
    let container = plan.firstIndex { $0.hasPrefix("+ instantiate image=b-app:latest name=b-app-1") }
    #expect(instantiate != nil && run != nil && commit != nil && network != nil && container != nil, "\(stderr)")
    if let instantiate, let run, let commit, let network, let container {
      #expect(instantiate < run && run < commit && commit < network && network < container, "\(plan)")
    }
    #expect(stdout.hasPrefix("created,created,created"), "\(stdout)")
  }

  @Test func aMissingJailfileIsNamedBeforeAnything() throws {
    let fake = try emptyDaemon()
    defer { fake.stop() }
    let (status, _, stderr) = try dryRun(#"mkdir empty; stack up {name: "b", services: {app: {build: "empty"}}}"#, fake)
    #expect(status != 0)
    #expect(stderr.contains("stack record at `services.app.build`: service `app`: cannot read"), "\(stderr)")
    #expect(!stderr.contains("+ "), "\(stderr)")
  }
}
