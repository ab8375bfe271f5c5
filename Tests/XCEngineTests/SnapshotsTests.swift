import Foundation
import Logging
import Testing

@testable import XCEngine

/// What `Snapshots` can do without mounting anything: find a container's changes (its upper
/// directory less the mount points runc made), and tear down a bundle with nothing mounted.
@Suite("Snapshots (unit)")
struct SnapshotsTests {
  final class Fixture {
    let dir: String
    let snapshots: Snapshots

    init() throws {
      dir = try TempState().path
      let layout = StateLayout(root: dir)
      let state = try StateStore(path: layout.database)
      snapshots = Snapshots(
        layout: layout, imageStore: ImageStore(layout: layout, state: state, logger: Logger(label: "test")))
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
  }

  static func spec(mounts: [String]) -> RuntimeSpec {
    RuntimeSpec(
      process: .init(
        user: .init(uid: 0, gid: 0), args: ["/bin/true"], env: [], cwd: "/",
        capabilities: .init(bounding: [], effective: [], permitted: [])),
      root: .init(path: "rootfs"), hostname: "unit",
      mounts: mounts.map { .init(destination: $0, type: "bind", source: "/tmp", options: ["bind"]) },
      linux: .init(namespaces: [], maskedPaths: [], readonlyPaths: []))
  }

  @Test func changesAreTheUpperDirectoryLessRuncsMountPoints() throws {
    let f = try Fixture()
    #expect(f.snapshots.changes("c1", initPath: "/.xc-init") == nil)  // no bundle yet

    let bundle = f.snapshots.bundle("c1")
    #expect(bundle == f.dir + "/containers/c1")
    try FileManager.default.createDirectory(atPath: bundle + "/upper", withIntermediateDirectories: true)
    let spec = Self.spec(mounts: ["/proc", "/var/db/", "/"])
    try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: bundle + "/config.json"))

    let changes = try #require(f.snapshots.changes("c1", initPath: "/.xc-init"))
    #expect(changes.upper == bundle + "/upper")
    // xc-init's bind target and every mount destination are placeholders, normalised; "/"
    // itself is never one.
    #expect(changes.placeholders == [".xc-init", "proc", "var/db"])

    // Without a readable config.json only xc-init's mount point is known.
    try Data("{".utf8).write(to: URL(fileURLWithPath: bundle + "/config.json"))
    #expect(f.snapshots.changes("c1", initPath: "/.xc-init")?.placeholders == [".xc-init"])
  }

  @Test func teardownOfABundleWithNothingMounted() throws {
    let f = try Fixture()
    let bundle = f.snapshots.bundle("c2")
    try FileManager.default.createDirectory(atPath: bundle + "/rootfs/etc", withIntermediateDirectories: true)
    #expect(FileManager.default.createFile(atPath: bundle + "/rootfs/etc/hostname", contents: Data("x\n".utf8)))
    try f.snapshots.unmountAll(bundle: bundle)  // nothing mounted: nothing to do, no error
    try f.snapshots.remove(bundle: bundle)
    #expect(!FileSystem.exists(bundle))
  }
}
