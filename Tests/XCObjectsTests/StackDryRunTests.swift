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
      "'services:\n  web:\n    image: busybox:latest\n    build: .\n' | save -f bad.yaml; stack up bad.yaml -p bad", fake)
    #expect(status != 0)
    #expect(stderr.contains("bad.yaml:4:5: `build:` is not supported"), "\(stderr)")
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
}
