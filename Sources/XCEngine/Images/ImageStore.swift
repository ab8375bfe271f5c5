import Foundation
import Glibc
import Logging
import CSupport
import XCSystem

/// The image store: OCI blobs by digest, one unpacked read-only tree per image (by ChainID),
/// and tags in the state database.
final class ImageStore: Sendable {
  let layout: StateLayout
  let state: StateStore
  let logger: Logger
  /// Serialises imports so two imports of the same image never unpack the same tree at once.
  let importLock = NSLock()

  init(layout: StateLayout, state: StateStore, logger: Logger) {
    self.layout = layout
    self.state = state
    self.logger = logger
  }

  // MARK: - Import

  /// Imports every image of the archive read from `fd`. With `reference`, the archive's
  /// (first) image is tagged with it; otherwise each image's own name in the archive is used.
  func importArchive(fd: CInt, reference: ImageReference?) throws -> [ImageRecord] {
    importLock.lock()
    defer { importLock.unlock() }
    let staging = layout.tmp + "/import-\(UUID().uuidString.prefix(8))"
    try FileSystem.makeDirectories(staging, mode: 0o700)
    defer { try? FileSystem.removeTree(staging) }

    var archive = ArchiveReader(stagingDir: staging)
    try archive.read(fd: fd)

    var found: [(manifest: OCI.Manifest, manifestBytes: [UInt8], names: [String], blobs: [String: ArchiveReader.Member])] = []
    if let indexBytes = try archive.bytes("index.json") {
      let index = try decodeJSON(OCI.Index.self, indexBytes, "index.json")
      for descriptor in index.manifests {
        let (manifestDescriptor, manifestMember) = try resolveManifest(descriptor, archive)
        let bytes = try FileSystem.readBytes(manifestMember.stagedPath)
        let manifest = try decodeJSON(OCI.Manifest.self, bytes, "manifest \(manifestDescriptor.digest)")
        var blobs: [String: ArchiveReader.Member] = [manifestDescriptor.digest: manifestMember]
        for d in [manifest.config] + manifest.layers {
          let m = try archive.blob(d.digest)
          guard m.size == d.size else {
            throw EngineError(.digestMismatch, "blob \(d.digest) has size \(m.size), manifest says \(d.size)", errno: .invalidArgument)
          }
          blobs[d.digest] = m
        }
        let annotations = descriptor.annotations ?? [:]
        let names = [annotations["io.containerd.image.name"], annotations["org.opencontainers.image.ref.name"]]
          .compactMap { $0 }
        found.append((manifest, bytes, names, blobs))
      }
    } else if let manifestBytes = try archive.bytes("manifest.json") {
      let entries = try decodeJSON([OCI.DockerSaveEntry].self, manifestBytes, "manifest.json")
      for entry in entries {
        guard let config = archive.member(entry.Config) else {
          throw EngineError.badArchive("the archive has no \(entry.Config)")
        }
        var blobs: [String: ArchiveReader.Member] = [config.digest: config]
        var layers: [OCI.Descriptor] = []
        for path in entry.Layers {
          guard let layer = archive.member(path) else {
            throw EngineError.badArchive("the archive has no layer \(path)")
          }
          blobs[layer.digest] = layer
          layers.append(OCI.Descriptor(mediaType: try Self.layerMediaType(layer.stagedPath), digest: layer.digest, size: layer.size))
        }
        // docker save has no manifest blob: write the OCI manifest it implies.
        let manifest = OCI.Manifest(
          schemaVersion: 2, mediaType: OCI.manifestMediaType,
          config: OCI.Descriptor(mediaType: OCI.configMediaType, digest: config.digest, size: config.size),
          layers: layers)
        let bytes = Array(try StateStore.encode(manifest).utf8)
        found.append((manifest, bytes, entry.RepoTags ?? [], blobs))
      }
    } else {
      throw EngineError.badArchive("the archive has neither index.json nor manifest.json")
    }
    guard !found.isEmpty else { throw EngineError.badArchive("the archive holds no image") }

    var records: [ImageRecord] = []
    for (i, image) in found.enumerated() {
      let ref: ImageReference
      if let reference, i == 0 {
        ref = reference
      } else if let name = image.names.lazy.compactMap({ try? ImageReference(parsing: $0) }).first {
        ref = name
      } else if reference != nil {
        continue  // the caller named the first image; unnamed others are not kept
      } else {
        throw EngineError(
          .badReference, "the archive does not name its image",
          help: "give a reference to tag it with, e.g. busybox:latest", errno: .invalidArgument)
      }
      records.append(try register(image.manifest, manifestBytes: image.manifestBytes, blobs: image.blobs, as: ref))
    }
    return records
  }

  /// Imports one layer archive (plain, gzip or zstd tar) as an image with that single layer
  /// and `config` as its xc metadata (xc's `fd_import`). Returns the layer's diff id.
  func importLayer(fd: CInt, config: JailConfig, reference: ImageReference) throws -> ImageRecord {
    importLock.lock()
    defer { importLock.unlock() }
    guard let tag = reference.tag else {
      throw EngineError(.badReference, "an import needs a tag, not a digest", errno: .invalidArgument)
    }
    let staged = layout.tmp + "/layer-\(UUID().uuidString.prefix(8))"
    defer { unlink(staged) }
    let out = try sysCall("create \(staged)") { open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
    var hasher = SHA256()
    var size: Int64 = 0
    do {
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let n = try buffer.withUnsafeMutableBytes { try readSome(fd, into: $0) }
        if n == 0 { break }
        try buffer.withUnsafeBytes { chunk in
          let part = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
          hasher.update(part)
          try writeAll(out, part)
        }
        size += Int64(n)
      }
      closeQuietly(out)
    } catch {
      closeQuietly(out)
      throw EngineError(.badArchive, "failed to copyin archive", errno: .ioError, detail: "\(error)")
    }
    let blobDigest = "sha256:" + hasher.finalizeHex()
    if !FileSystem.exists(layout.blob(blobDigest)) {
      try sysCall("store blob \(blobDigest)") { rename(staged, layout.blob(blobDigest)) }
    }

    // The tree is named by the diff id, known only once the layer has been read.
    let temp = layout.tmp + "/unpack-\(UUID().uuidString.prefix(8))"
    try FileSystem.makeDirectories(temp, mode: 0o755)
    let diffID: String
    do {
      var unpacker = LayerUnpacker(root: temp)
      diffID = try applyLayer(layout.blob(blobDigest), &unpacker)
      unpacker.finish()
      let tree = layout.imageTree(chainID: diffID)
      if FileSystem.isDirectory(tree) {
        try FileSystem.removeTree(temp)
      } else {
        try sysCall("rename unpacked tree") { rename(temp, tree) }
      }
    } catch {
      try? FileSystem.removeTree(temp)
      throw error
    }

    var inner = JailImage.Config()
    inner.xc_extension = config
    let image = JailImage(
      architecture: Self.hostArchitecture, os: "linux", config: inner,
      rootfs: .init(type: "layers", diff_ids: [diffID]), history: [])
    let configBytes = Array(try StateStore.encode(image).utf8)
    let configDigest = Digest.of(configBytes)
    try FileSystem.writeAtomically(layout.blob(configDigest), configBytes)
    let manifest = OCI.Manifest(
      schemaVersion: 2, mediaType: OCI.manifestMediaType,
      config: .init(mediaType: OCI.configMediaType, digest: configDigest, size: Int64(configBytes.count)),
      layers: [.init(mediaType: try Self.layerMediaType(layout.blob(blobDigest)), digest: blobDigest, size: size)])
    let manifestBytes = Array(try StateStore.encode(manifest).utf8)
    let manifestDigest = Digest.of(manifestBytes)
    try FileSystem.writeAtomically(layout.blob(manifestDigest), manifestBytes)
    let record = ImageRecord(
      image_reference: reference.description, digest: configDigest, manifest: image,
      manifest_digest: manifestDigest, chain_id: diffID, layers: [blobDigest],
      created: Int64(Date().timeIntervalSince1970 * 1e9))
    try state.saveImage(record, repository: reference.repository, tag: tag)
    return record
  }

  /// Follows an index entry to an image manifest, choosing this host's platform in nested
  /// indexes.
  private func resolveManifest(_ descriptor: OCI.Descriptor, _ archive: ArchiveReader, depth: Int = 0) throws
    -> (OCI.Descriptor, ArchiveReader.Member)
  {
    let member = try archive.blob(descriptor.digest)
    let type = descriptor.mediaType ?? ""
    guard type == OCI.indexMediaType || type == OCI.dockerManifestList else {
      return (descriptor, member)
    }
    guard depth < 4 else { throw EngineError.badArchive("image indexes nest too deeply") }
    let index = try decodeJSON(OCI.Index.self, try FileSystem.readBytes(member.stagedPath), "index \(descriptor.digest)")
    let arch = Self.hostArchitecture
    guard let chosen = index.manifests.first(where: { $0.platform?.architecture == arch && $0.platform?.os == "linux" })
      ?? index.manifests.first(where: { $0.platform == nil })
    else {
      throw EngineError.badArchive("the image has no manifest for linux/\(arch)")
    }
    return try resolveManifest(chosen, archive, depth: depth + 1)
  }

  static var hostArchitecture: String {
    #if arch(arm64)
      "arm64"
    #else
      "amd64"
    #endif
  }

  /// Stores the blobs, unpacks the image's tree if it is new, and tags it.
  func register(
    _ manifest: OCI.Manifest, manifestBytes: [UInt8], blobs: [String: ArchiveReader.Member],
    as reference: ImageReference
  ) throws -> ImageRecord {
    guard let configMember = blobs[manifest.config.digest] else {
      throw EngineError.badArchive("missing config blob")
    }
    let configBytes = try FileSystem.readBytes(configMember.stagedPath)
    let config = try decodeJSON(OCI.ImageConfig.self, configBytes, "image config")
    guard config.rootfs.diff_ids.count == manifest.layers.count else {
      throw EngineError.badArchive(
        "the config lists \(config.rootfs.diff_ids.count) layers but the manifest \(manifest.layers.count)")
    }
    for id in config.rootfs.diff_ids where !Digest.isValid(id) {
      throw EngineError.badArchive("bad diff id \(id)")
    }
    // Store blobs (rename from staging; same digest = same content, so keep any existing).
    for (digest, member) in blobs where !FileSystem.exists(layout.blob(digest)) {
      try sysCall("store blob \(digest)") { rename(member.stagedPath, layout.blob(digest)) }
    }
    let manifestDigest = Digest.of(manifestBytes)
    if !FileSystem.exists(layout.blob(manifestDigest)) {
      try FileSystem.writeAtomically(layout.blob(manifestDigest), manifestBytes)
    }

    let chainID = Digest.chainID(config.rootfs.diff_ids) ?? Digest.of([])
    let tree = layout.imageTree(chainID: chainID)
    if !FileSystem.isDirectory(tree) {
      try unpack(layers: manifest.layers.map(\.digest), diffIDs: config.rootfs.diff_ids, into: tree)
    }

    let image = JailImage(
      architecture: config.architecture ?? Self.hostArchitecture, os: config.os ?? "linux",
      config: config.config, rootfs: config.rootfs, history: config.history ?? [])
    let record = ImageRecord(
      image_reference: reference.description,
      digest: Digest.of(Array(try StateStore.encode(image).utf8)),
      manifest: image, manifest_digest: manifestDigest, chain_id: chainID,
      layers: manifest.layers.map(\.digest),
      created: Int64(Date().timeIntervalSince1970 * 1e9))
    try state.saveImage(record, repository: reference.repository, tag: reference.tag ?? Digest.hex(manifestDigest))
    logger.info("imported image", metadata: ["reference": "\(reference)", "chain_id": "\(chainID)"])
    return record
  }

  /// Unpacks layers in order into a fresh tree, checking each layer's diff id, then renames
  /// it into place so a crash never leaves a half-unpacked tree under its final name.
  func unpack(layers: [String], diffIDs: [String], into tree: String) throws {
    let temp = layout.tmp + "/unpack-\(UUID().uuidString.prefix(8))"
    try FileSystem.makeDirectories(temp, mode: 0o755)
    do {
      var unpacker = LayerUnpacker(root: temp)
      for (layer, diffID) in zip(layers, diffIDs) {
        let actual = try applyLayer(layout.blob(layer), &unpacker)
        guard actual == diffID else {
          throw EngineError(
            .digestMismatch, "layer \(layer) unpacks to \(actual), the config says \(diffID)",
            help: "the archive is corrupt; make it again", errno: .invalidArgument)
        }
      }
      unpacker.finish()
      try sysCall("chmod \(temp)") { chmod(temp, 0o755) }
      try sysCall("rename unpacked tree") { rename(temp, tree) }
    } catch {
      try? FileSystem.removeTree(temp)
      throw error
    }
  }

  /// Applies one layer blob (plain, gzip or zstd tar); returns the diff id of its tar stream.
  func applyLayer(_ path: String, _ unpacker: inout LayerUnpacker) throws -> String {
    let compression = try Self.compression(of: path)
    let file = try sysCall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { closeQuietly(file) }
    guard let tool = compression else {
      var reader = TarReader(fd: file, hashing: true)
      try unpacker.apply(&reader)
      return "sha256:" + (try reader.finishHash() ?? "")
    }
    // Decompress through the system tool: its stdout is a pipe the tar reader consumes.
    var pipe: [CInt] = [-1, -1]
    try sysCall("pipe") { cs_pipe_cloexec(&pipe) }
    let errFile = layout.tmp + "/decompress-\(UUID().uuidString.prefix(8)).err"
    let errFD = try sysCall("create \(errFile)") { open(errFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600) }
    defer {
      closeQuietly(errFD)
      unlink(errFile)
    }
    let pid: pid_t
    do {
      pid = try Subprocess.spawn([tool, "-dc"], stdin: file, stdout: pipe[1], stderr: errFD)
    } catch {
      pipe.forEach(closeQuietly)
      let package = tool.hasSuffix("/zstd") ? "zstd" : "gzip"
      throw EngineError(
        .system, "cannot run \(tool) to decompress a layer", help: "install it (apt-get install \(package))",
        errno: .ioError)
    }
    closeQuietly(pipe[1])
    var result: Result<String, any Error>
    do {
      var reader = TarReader(fd: pipe[0], hashing: true)
      try unpacker.apply(&reader)
      result = .success("sha256:" + (try reader.finishHash() ?? ""))
    } catch {
      result = .failure(error)
    }
    closeQuietly(pipe[0])  // a decompressor still writing gets EPIPE and ends
    let status = try Subprocess.wait(pid)
    let hash = try result.get()
    guard WaitStatus(rawValue: status).exitCode == 0 else {
      let detail = (try? FileSystem.readString(errFile)) ?? ""
      throw EngineError(.badArchive, "\(tool) failed to decompress a layer", errno: .invalidArgument, detail: detail)
    }
    return hash
  }

  /// The decompressor a blob needs, from its magic bytes: gzip, zstd, or nil for plain tar.
  static func compression(of path: String) throws -> String? {
    let fd = try sysCall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { closeQuietly(fd) }
    var magic = [UInt8](repeating: 0, count: 4)
    // One read is enough: a blob file (not a pipe) returns its first bytes at once.
    let n = try magic.withUnsafeMutableBytes { try readSome(fd, into: $0) }
    if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b { return tool("gzip") }
    if n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] { return tool("zstd") }
    return nil
  }

  /// The path of a system tool, or its /usr/bin path (whose absence the spawn then reports).
  static func tool(_ name: String) -> String {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] where access(dir + "/" + name, X_OK) == 0 {
      return dir + "/" + name
    }
    return "/usr/bin/" + name
  }

  static func layerMediaType(_ path: String) throws -> String {
    switch try compression(of: path) {
    case .some(let tool) where tool.hasSuffix("/gzip"): return OCI.layerTar + "+gzip"
    case .some: return OCI.layerTar + "+zstd"
    case .none: return OCI.layerTar
    }
  }

  /// Replaces the image's `xc_extension` with `config` and resets its OCI part, as xc's
  /// `replace_meta` does; writes a new config and manifest (same layers) and re-points the tag.
  func replaceMeta(_ reference: ImageReference, config: JailConfig) throws -> ImageRecord {
    importLock.lock()
    defer { importLock.unlock() }
    let old = try resolve(reference)
    guard let tag = reference.tag else {
      throw EngineError(.badReference, "replace_meta needs a tag, not a digest", errno: .invalidArgument)
    }
    var manifest = try JSONDecoder().decode(
      OCI.Manifest.self, from: Data(try FileSystem.readBytes(layout.blob(old.manifest_digest))))
    var image = old.manifest
    var inner = JailImage.Config()
    inner.xc_extension = config
    image.config = inner
    let configBytes = Array(try StateStore.encode(image).utf8)
    let configDigest = Digest.of(configBytes)
    try FileSystem.writeAtomically(layout.blob(configDigest), configBytes)
    manifest.config = OCI.Descriptor(
      mediaType: OCI.configMediaType, digest: configDigest, size: Int64(configBytes.count))
    let manifestBytes = Array(try StateStore.encode(manifest).utf8)
    let manifestDigest = Digest.of(manifestBytes)
    try FileSystem.writeAtomically(layout.blob(manifestDigest), manifestBytes)
    var record = old
    record.manifest = image
    record.digest = configDigest
    record.manifest_digest = manifestDigest
    record.created = Int64(Date().timeIntervalSince1970 * 1e9)
    try state.saveImage(record, repository: reference.repository, tag: tag)
    return record
  }

  // MARK: - Queries

  func resolve(_ reference: ImageReference) throws -> ImageRecord {
    let found: ImageRecord?
    if let tag = reference.tag {
      found = try state.image(repository: reference.repository, tag: tag)
    } else {
      found = try state.images().first {
        $0.manifest_digest == reference.digest && $0.image_reference.hasPrefix(reference.repository + ":")
      }.map { var r = $0; r.image_reference = reference.description; return r }
    }
    guard let found else { throw EngineError.imageNotFound(reference.description) }
    return found
  }

  /// Deletes untagged images, their blobs and trees, unless still used by `inUse` manifests.
  func purge(inUse: Set<String>) throws {
    importLock.lock()
    defer { importLock.unlock() }
    let removed = try state.deleteUntaggedImages()
    let kept = try state.allImageRows()
    var keptBlobs = Set(kept.flatMap { $0.layers + [$0.manifest_digest] })
    var keptChains = Set(kept.map(\.chain_id))
    for r in removed where inUse.contains(r.manifest_digest) {
      keptBlobs.formUnion(r.layers + [r.manifest_digest])
      keptChains.insert(r.chain_id)
    }
    for r in kept {
      if let data = try? FileSystem.readBytes(layout.blob(r.manifest_digest)),
        let m = try? JSONDecoder().decode(OCI.Manifest.self, from: Data(data))
      {
        keptBlobs.insert(m.config.digest)
      }
    }
    for name in FileSystem.list(layout.blobs) where !keptBlobs.contains("sha256:" + name) {
      unlink(layout.blobs + "/" + name)
    }
    for name in FileSystem.list(layout.images) where !keptChains.contains("sha256:" + name) {
      try FileSystem.removeTree(layout.images + "/" + name)
    }
  }

  private func decodeJSON<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(bytes))
    } catch {
      throw EngineError.badArchive("cannot read \(what): \(error)")
    }
  }
}
