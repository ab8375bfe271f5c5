import Foundation
import Glibc
import SystemPackage
import Testing
import XCSystem

@testable import XCEngine

@Suite("Images", .enabled(if: runsAsRoot, "needs root (mounts, runc)"))
struct ImageTests {
  @Test func importListDescribeAndSurviveRestart() async throws {
    let state = try TempState()
    defer { state.remove() }
    var engine: Engine? = try Engine(stateDir: state.path)
    let records = try importArchive(engine!, try Fixtures.archive(), reference: nil)
    #expect(records.map(\.image_reference) == ["busybox:latest"])
    let record = try engine!.describeImage("busybox:latest")
    #expect(record.manifest.os == "linux")
    #expect(record.manifest.config?.Cmd == ["/bin/sh"])
    #expect(record.manifest.jailConfig.default_entry_point == JailConfig.ociEntryPointName)
    #expect(record.chain_id.hasPrefix("sha256:"))
    #expect(FileManager.default.fileExists(atPath: state.path + "/images/" + record.chain_id.dropFirst(7) + "/bin/busybox"))
    let err = #expect(throws: EngineError.self) { try engine!.describeImage("nope:1") }
    #expect(err?.code == .imageNotFound)
    #expect(err?.errno == .noSuchFileOrDirectory)
    #expect(throws: EngineError.self) { try engine!.describeImage("no-tag") }
    let byDigest = try engine!.describeImage("busybox@\(record.manifest_digest)")
    #expect(byDigest.manifest == record.manifest && byDigest.chain_id == record.chain_id)

    // A second tag of the same archive shares blobs and the unpacked tree.
    try importArchive(engine!, try Fixtures.archive(), reference: "localhost:5000/bb:2")
    #expect(try engine!.images().map(\.image_reference).sorted() == ["busybox:latest", "localhost:5000/bb:2"])
    #expect(try engine!.describeImages(name: "localhost:5000/bb").count == 1)

    // One engine per state directory.
    let busy = #expect(throws: EngineError.self) { try Engine(stateDir: state.path) }
    #expect(busy?.errno == .resourceBusy)
    engine!.shutdown()
    engine = nil
    let again = try Engine(stateDir: state.path)
    #expect(try again.images().count == 2)
    #expect(try again.describeImage("busybox:latest") == record)

    try again.removeImage("busybox:latest")
    try again.purge()
    #expect(FileManager.default.fileExists(atPath: state.path + "/images/" + record.chain_id.dropFirst(7)))
    try again.removeImage("localhost:5000/bb:2")
    try again.purge()
    #expect(try again.images().isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: state.path + "/blobs/sha256").isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: state.path + "/images").isEmpty)
    again.shutdown()
    state.expectClean()
  }

  @Test(arguments: [
    ["--format", "docker", "--compression", "none"],
    ["--format", "oci", "--compression", "zstd"],
    ["--format", "oci", "--compression", "none"],
  ])
  func importFormats(_ arguments: [String]) async throws {
    try await withEngine(image: arguments + ["--name", "fmt:1"], reference: "fmt:1") { engine, _ in
      let r = try engine.describeImage("fmt:1")
      #expect(r.layers.count == 1)
      let out = try TestPipe()
      var spec = ContainerSpec.busybox(["/bin/echo", "ok"], stdout: out.write)
      spec.image_reference = "fmt:1"
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "ok\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
    }
  }

  @Test func replaceMetaChangesEntryPoints() async throws {
    try await withEngine { engine, _ in
      var config = JailConfig()
      config.entry_points["greet"] = .init(exec: "/bin/echo", args: ["hi", "$USER", "${LEVEL}", "${NAME:-anon}"])
      config.default_entry_point = "greet"
      config.envs["LEVEL"] = .init(required: false, default_value: "3")
      let before = try engine.describeImage("busybox:latest")
      let image = try engine.replaceMeta("busybox:latest", config: config)
      #expect(image.config?.Cmd == nil)
      #expect(image.jailConfig.default_entry_point == "greet")
      let after = try engine.describeImage("busybox:latest")
      #expect(after.manifest_digest != before.manifest_digest)
      #expect(after.chain_id == before.chain_id)
      let out = try TestPipe()
      var spec = ContainerSpec(image_reference: "busybox:latest")
      spec.stdout = out.write
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "hi $USER 3 anon\n")  // unset $USER is kept as written
      #expect(try await engine.waitExit(c.id).main_proto?.envs["LEVEL"] == "3")
      #expect((#expect(throws: EngineError.self) { try engine.replaceMeta("nope:1", config: config) })?.code == .imageNotFound)
    }
  }

  @Test func importASingleLayerWithConfig() async throws {
    try await withEngine { engine, state in
      // A layer made by hand: busybox and a script.
      let dir = state.path + "/layer-src"
      try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: dir + "/bin/busybox")
      try FileManager.default.createSymbolicLink(atPath: dir + "/bin/sh", withDestinationPath: "busybox")
      try "#!/bin/sh\necho layer says $GREETING\n".write(toFile: dir + "/hello", atomically: true, encoding: .utf8)
      chmod(dir + "/hello", 0o755)
      let layer = state.path + "/layer.tar.gz"
      let tar = try Fixtures.run(["/usr/bin/tar", "-C", dir, "-czf", layer, "."])
      #expect(tar.status == 0)
      var config = JailConfig()
      config.entry_points["main"] = .init(exec: "/hello")
      config.envs["GREETING"] = .init(required: false, default_value: "hi")
      let fd = try FileDescriptor.open(layer, .readOnly)
      defer { try? fd.close() }
      let record = try engine.importLayer(from: fd, config: config, reference: "hello:1")
      #expect(record.manifest.rootfs.diff_ids.count == 1)
      #expect(record.chain_id == record.manifest.rootfs.diff_ids[0])
      let out = try TestPipe()
      var spec = ContainerSpec(image_reference: "hello:1")
      spec.stdout = out.write
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "layer says hi\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
    }
  }

  @Test(arguments: [["--format", "oci"], ["--format", "docker", "--compression", "none"]])
  func twoLayersWithWhiteouts(_ format: [String]) async throws {
    try await withEngine(image: format + ["--two-layers", "--name", "two:1"], reference: "two:1") { engine, _ in
      let image = try engine.describeImage("two:1")
      #expect(image.layers.count == 2)
      #expect(image.chain_id == Digest.chainID(image.manifest.rootfs.diff_ids))
      let out = try TestPipe()
      var spec = ContainerSpec.busybox(
        ["sh", "-c", "test -e /bin/ls || echo ls gone; echo /home/user/*; cat /etc/motd"], stdout: out.write)
      spec.image_reference = "two:1"
      let c = try engine.createContainer(spec)
      #expect(try out.readAll() == "ls gone\n/home/user/new\nwelcome to layer 2\n")
      #expect(try await engine.waitExit(c.id).exitCode == 0)
    }
  }

  /// Archives written by skopeo (a real third-party writer): an OCI archive, and a
  /// docker-archive whose layers are reached through symlinks.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"), "needs skopeo"),
        arguments: ["oci-archive", "docker-archive"])
  func archivesWrittenBySkopeo(_ transport: String) async throws {
    let state = try TempState()
    defer { state.remove() }
    let source = try Fixtures.archive(["--two-layers"])
    let path = state.path + "/skopeo.tar"
    let copy = try Fixtures.run([
      "/usr/bin/skopeo", "copy", "oci-archive:\(source):busybox:latest", "\(transport):\(path):example/app:2",
    ])
    try #require(copy.status == 0, "\(copy.stderr)")
    let engine = try Engine(stateDir: state.path)
    let records = try importArchive(engine, path, reference: nil)
    // skopeo's docker-archive spells the name with docker's default registry.
    let name = transport == "oci-archive" ? "example/app:2" : "docker.io/example/app:2"
    #expect(records.map(\.image_reference) == [name])
    let out = try TestPipe()
    var spec = ContainerSpec.busybox(["cat", "/etc/motd"], stdout: out.write)
    spec.image_reference = name
    let c = try engine.createContainer(spec)
    #expect(try out.readAll() == "welcome to layer 2\n")
    #expect(try await engine.waitExit(c.id).exitCode == 0)
    engine.shutdown()
    state.expectClean()
  }

  @Test func corruptArchiveIsRefused() async throws {
    let state = try TempState()
    defer { state.remove() }
    let engine = try Engine(stateDir: state.path)
    defer { engine.shutdown() }
    // Flip one byte inside the layer blob: its digest no longer matches its name.
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Fixtures.archive())))
    bytes[bytes.count / 2] ^= 0xff
    let path = state.path + "/corrupt.tar"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let err = #expect(throws: EngineError.self) { try importArchive(engine, path, reference: "bad:1") }
    #expect(err?.code == .digestMismatch || err?.code == .badArchive)
    #expect(try engine.images().isEmpty)

    let empty = state.path + "/empty.tar"
    _ = FileManager.default.createFile(atPath: empty, contents: Data(count: 1024))
    let err2 = #expect(throws: EngineError.self) { try importArchive(engine, empty, reference: "bad:1") }
    #expect(err2?.code == .badArchive)
  }

  /// A crashed run leaves a running runc container with its overlay mounted: the next engine
  /// kills it, deletes its runc state, unmounts and removes it, and keeps the images.
  @Test func leftoverContainersAreRemovedOnStart() async throws {
    let state = try TempState()
    defer { state.remove() }
    let first = try Engine(stateDir: state.path)
    try importArchive(first, try Fixtures.archive(), reference: "busybox:latest")
    let image = try first.describeImage("busybox:latest")
    first.shutdown()

    let layout = StateLayout(root: state.path)
    let id = "0123456789ab"
    let bundle = layout.container(id)
    for sub in ["rootfs", "upper", "work"] {
      try FileManager.default.createDirectory(atPath: bundle + "/" + sub, withIntermediateDirectories: true)
    }
    try Mount.overlay(
      lower: layout.imageTree(chainID: image.chain_id), upper: bundle + "/upper", work: bundle + "/work",
      at: bundle + "/rootfs")
    let spec = RuntimeSpec(
      process: .init(user: .init(uid: 0, gid: 0), args: ["sh", "-c", "read line"], env: ["PATH=/bin"], cwd: "/",
                     capabilities: .defaults),
      root: .init(path: "rootfs"), hostname: "crashed", mounts: RuntimeSpec.standardMounts,
      linux: .init(namespaces: RuntimeSpec.namespaces, maskedPaths: [], readonlyPaths: []))
    try StateStore.encode(spec).write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
    let stdin = try TestPipe()
    let null = open("/dev/null", O_WRONLY)
    defer { close(null) }
    let runc = Runc(binary: "/usr/sbin/runc", root: layout.runc)
    let pid = try runc.create(id: id, bundle: bundle, stdio: (stdin.read.rawValue, null, null))
    try runc.start(id: id, bundle: bundle)
    #expect(try runc.list() == [id])

    let second = try Engine(stateDir: state.path)
    #expect(try runc.list().isEmpty)
    var status: Int32 = 0
    #expect(waitpid(pid, &status, 0) == pid)  // it was our child: reap it
    #expect(WaitStatus(rawValue: status).terminationSignal == SIGKILL)
    #expect(!FileManager.default.fileExists(atPath: bundle))
    #expect(try second.describeImage("busybox:latest") == image)
    second.shutdown()
    state.expectClean()
  }

  @Test func leftoverMountsAreRemovedOnStart() async throws {
    let state = try TempState()
    defer { state.remove() }
    let engine = try Engine(stateDir: state.path)
    engine.shutdown()
    // Simulate a crash that left a container's overlay mounted.
    let dir = state.path + "/containers/0123456789ab"
    for sub in ["rootfs", "upper", "work", "lower"] {
      try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
    }
    try Mount.overlay(lower: dir + "/lower", upper: dir + "/upper", work: dir + "/work", at: dir + "/rootfs")
    #expect(Mount.mountPoints(under: state.path) == [dir + "/rootfs"])
    let again = try Engine(stateDir: state.path)
    #expect(Mount.mountPoints(under: state.path).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: dir))
    again.shutdown()
    state.expectClean()
  }
}
