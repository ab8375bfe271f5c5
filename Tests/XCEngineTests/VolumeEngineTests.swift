import Foundation
import Glibc
import SystemPackage
import Testing

@testable import XCEngine

/// The engine's volume bookkeeping and `mount_req` resolution, without starting containers.
@Suite("Volumes", .enabled(if: runsAsRoot, "needs root (the engine's state and runc)"))
struct VolumeEngineTests {
  @Test func createListRemoveAndNames() throws {
    let state = try TempState()
    defer { state.remove() }
    let engine = try Engine(stateDir: state.path)
    defer { engine.shutdown() }
    let made = try engine.createVolume(name: "data", driver: .directory)
    #expect(made.owned && made.device == state.path + "/volumes/data")
    #expect(FileSystem.isDirectory(made.device))
    let custom = state.path + "/elsewhere"
    let placed = try engine.createVolume(name: "placed", driver: .directory, directory: custom)
    #expect(placed.device == custom + "/placed")
    #expect(try engine.volumes().map(\.name) == ["data", "placed"])

    for bad in ["", ".hidden", "-x", "a/b", "a b", String(repeating: "v", count: 129)] {
      let e = #expect(throws: EngineError.self) { try engine.createVolume(name: bad, driver: .directory) }
      #expect(e?.errno == .invalidArgument, "\(bad)")
    }
    let zfs = #expect(throws: EngineError.self) { try engine.createVolume(name: "z", driver: .zfs) }
    #expect(zfs?.code == .unsupported && zfs?.errno == .notSupported)
    let dup = #expect(throws: EngineError.self) { try engine.createVolume(name: "data", driver: .directory) }
    #expect(dup?.errno == .fileExists)
    // A leftover directory of the same name is not silently adopted.
    try FileManager.default.createDirectory(atPath: state.path + "/volumes/stray", withIntermediateDirectories: true)
    let stray = #expect(throws: EngineError.self) { try engine.createVolume(name: "stray", driver: .directory) }
    #expect(stray?.message.contains("Target directory already exists") == true)

    try engine.removeVolume("data")
    #expect(!FileSystem.exists(made.device))
    let gone = #expect(throws: EngineError.self) { try engine.removeVolume("data") }
    #expect(gone?.code == .volumeNotFound && gone?.errno == .noSuchFileOrDirectory)
  }

  @Test func mountRequestsResolveAsXcDoes() throws {
    let state = try TempState()
    defer { state.remove() }
    let engine = try Engine(stateDir: state.path)
    defer { engine.shutdown() }
    var image = try importArchive(engine, try Fixtures.archive(), reference: nil)[0]
    image.manifest.config?.xc_extension = {
      var c = JailConfig()
      c.mounts["db"] = MountSpec(destination: "/var/db", read_only: true, required: true)
      return c
    }()
    try engine.createVolume(name: "v", driver: .directory)
    let host = state.path + "/host"
    try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
    let evid = try FileDescriptor.open(host, .readOnly)
    defer { try? evid.close() }

    let mounts = try engine.resolveMounts(
      [.init(source: "v", destination: "db"), .init(source: host, destination: "/h", evidence: evid)], image: image)
    #expect(mounts.map(\.destination) == ["/var/db", "/h"])
    #expect(mounts.map(\.read_only) == [true, false])  // the slot says read-only
    #expect(mounts[0].volume == "v" && mounts[1].volume == nil)
    #expect(Engine.bindMounts(mounts)[0].options == ["rbind", "ro", "nosuid", "nodev"])

    let required = #expect(throws: EngineError.self) {
      try engine.resolveMounts([.init(source: host, destination: "/h", evidence: evid)], image: image)
    }
    #expect(required?.message == "Required volume \"db\" is not mounted")
    let unknown = #expect(throws: EngineError.self) {
      try engine.resolveMounts([.init(source: "nope", destination: "db")], image: image)
    }
    #expect(unknown?.message == "mount_req[0]: no such volume nope")
  }
}
