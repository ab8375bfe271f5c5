import Foundation
import Logging
import SystemPackage
import Testing

@testable import XCEngine

/// `Volumes` on its own, over a state store in a temporary directory: no engine, no root.
@Suite("Volumes (unit)")
struct VolumesTests {
  final class Fixture {
    let dir: String
    let volumes: Volumes

    init() throws {
      dir = try TempState().path
      let layout = StateLayout(root: dir)
      volumes = Volumes(
        layout: layout, state: try StateStore(path: layout.database), logger: Logger(label: "test"))
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
  }

  /// An image whose config declares volume slots.
  static func image(slots: [String: MountSpec]) throws -> ImageRecord {
    var manifest = try JSONDecoder().decode(
      JailImage.self,
      from: Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"history":[]}"#.utf8))
    var config = JailConfig()
    config.mounts = slots
    manifest.config = JailImage.Config()
    manifest.config?.xc_extension = config
    return ImageRecord(
      image_reference: "unit:1", digest: "sha256:0", manifest: manifest, manifest_digest: "sha256:0",
      chain_id: "sha256:0", layers: [], created: 0)
  }

  @Test func madeDirectoriesGoWithTheVolumeRegisteredOnesStay() throws {
    let f = try Fixture()
    let made = try f.volumes.create(name: "data", driver: .directory, device: nil, directory: nil)
    #expect(made.owned && made.device == f.dir + "/volumes/data" && FileSystem.isDirectory(made.device))
    let existing = f.dir + "/existing"
    try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
    let registered = try f.volumes.create(name: "kept", driver: .directory, device: existing, directory: nil)
    #expect(!registered.owned && registered.device == existing)
    #expect(try f.volumes.all().map(\.name) == ["data", "kept"])

    var asked: [String] = []
    for name in ["data", "kept"] {
      let record = try f.volumes.delete(name) { asked.append($0) }
      f.volumes.removeDirectory(of: record)
    }
    #expect(asked == ["data", "kept"])  // the in-use check ran for each
    #expect(!FileSystem.exists(made.device) && FileSystem.isDirectory(existing))
    #expect(try f.volumes.all().isEmpty)
  }

  @Test func refusalsNameTheProblem() throws {
    let f = try Fixture()
    let busy = #expect(throws: EngineError.self) {
      _ = try f.volumes.create(name: "v", driver: .directory, device: nil, directory: nil)
      _ = try f.volumes.delete("v") { _ in
        throw EngineError(.volumeInUse, "volume v is mounted by c1", errno: .resourceBusy)
      }
    }
    #expect(busy?.errno == .resourceBusy)
    #expect(try f.volumes.all().map(\.name) == ["v"])  // a refused delete keeps the row

    let relative = #expect(throws: EngineError.self) {
      try f.volumes.create(name: "r", driver: .directory, device: "relative/dir", directory: nil)
    }
    #expect(relative?.message == "device relative/dir is not an absolute path")
    let missing = #expect(throws: EngineError.self) {
      try f.volumes.create(name: "m", driver: .directory, device: f.dir + "/nope", directory: nil)
    }
    #expect(missing?.errno == .noSuchFileOrDirectory)
    let file = f.dir + "/plain-file"
    #expect(FileManager.default.createFile(atPath: file, contents: Data()))
    let notDir = #expect(throws: EngineError.self) {
      try f.volumes.create(name: "f", driver: .directory, device: file, directory: nil)
    }
    #expect(notDir?.errno == .notDirectory)
    let gone = #expect(throws: EngineError.self) { try f.volumes.delete("ghost") { _ in } }
    #expect(gone?.code == .volumeNotFound)
  }

  @Test func mountRequestsResolveAgainstSlotsVolumesAndEvidence() throws {
    let f = try Fixture()
    let image = try Self.image(slots: [
      "db": MountSpec(destination: "/var/db", read_only: true, required: true),
      "cache": MountSpec(destination: "/cache", read_only: false, required: false),
    ])
    _ = try f.volumes.create(name: "v", driver: .directory, device: nil, directory: nil)
    let host = f.dir + "/host"
    try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
    let evidence = try FileDescriptor.open(host, .readOnly)
    defer { try? evidence.close() }

    let mounts = try f.volumes.resolve(
      [.init(source: "v", destination: "db"), .init(source: host, destination: "/cache", evidence: evidence)],
      image: image)
    #expect(mounts.map(\.destination) == ["/var/db", "/cache"])
    #expect(mounts.map(\.read_only) == [true, false])
    #expect(Volumes.bindMounts(mounts).map(\.options) == [
      ["rbind", "ro", "nosuid", "nodev"], ["rbind", "rw", "nosuid", "nodev"],
    ])

    let required = #expect(throws: EngineError.self) { try f.volumes.resolve([], image: image) }
    #expect(required?.message == "Required volume \"db\" is not mounted")
    let noEvidence = #expect(throws: EngineError.self) {
      try f.volumes.resolve([.init(source: host, destination: "db")], image: image)
    }
    #expect(noEvidence?.message.hasPrefix("mount_req[0]: missing evidence") == true)
    let other = try FileDescriptor.open(f.dir, .readOnly)
    defer { try? other.close() }
    let mismatch = #expect(throws: EngineError.self) {
      try f.volumes.resolve([.init(source: host, destination: "db", evidence: other)], image: image)
    }
    #expect(mismatch?.message == "mount_req[0]: evidence inode mismatch: evid is not \(host)")
    let escape = #expect(throws: EngineError.self) {
      try f.volumes.resolve([.init(source: "v", destination: "/../etc")], image: image)
    }
    #expect(escape?.message.hasPrefix("mount_req[0]: dest \"/../etc\"") == true)
    let unknownSlot = #expect(throws: EngineError.self) {
      try f.volumes.resolve([.init(source: "v", destination: "logs")], image: image)
    }
    #expect(unknownSlot?.errno == .invalidArgument)
  }
}
