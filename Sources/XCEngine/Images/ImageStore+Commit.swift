import Foundation
import Glibc
import XCSystem

/// A layer archive made from a directory tree, staged in the store's tmp dir.
struct StagedLayer {
  /// The uncompressed tar (applied to make the new image's tree).
  var tarPath: String
  /// The compressed archive (zstd, or gzip without zstd): the blob.
  var path: String
  /// Digest and size of the compressed archive.
  var digest: String
  var size: Int64
  /// Digest of the uncompressed tar (the OCI diff id).
  var diffID: String
  var mediaType: String

  /// Removes the staged files that were not moved into the store.
  func discard() {
    unlink(tarPath)
    unlink(path)
  }
}

extension ImageStore {
  /// Archives an overlayfs upper directory as a compressed OCI layer, whiteouts translated
  /// (see `TreeArchiver`). `placeholders` are runc's mount points, left out when empty.
  func makeLayer(fromUpper upper: String, placeholders: Set<String>) throws -> StagedLayer {
    let stem = layout.tmp + "/commit-\(UUID().uuidString.prefix(8))"
    let tarPath = stem + ".tar"
    do {
      do {
        let out = try sysCall("create \(tarPath)") { open(tarPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { closeQuietly(out) }
        let root = try sysCall("open \(upper)") { open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { closeQuietly(root) }
        var archiver = TreeArchiver(writer: TarStreamWriter(fd: out))
        archiver.overlayWhiteouts = true
        archiver.placeholders = placeholders
        try archiver.addChildren(of: root, prefix: "")
        try archiver.writer.finish()
      }
      let diffID = try Self.sha256(ofFile: tarPath)
      let (compressed, mediaType) = try compress(tarPath, into: stem)
      do {
        let digest = try Self.sha256(ofFile: compressed)
        var st = stat()
        try sysCall("stat \(compressed)") { stat(compressed, &st) }
        return StagedLayer(
          tarPath: tarPath, path: compressed, digest: digest, size: Int64(st.st_size), diffID: diffID,
          mediaType: mediaType)
      } catch {
        unlink(compressed)
        throw error
      }
    } catch {
      unlink(tarPath)
      throw error
    }
  }

  /// SHA-256 of a file as `sha256:<hex>`, by coreutils' sha256sum: layers can be large and
  /// the engine's Swift hasher is slow in debug builds.
  static func sha256(ofFile path: String) throws -> String {
    let output: Subprocess.Output
    do {
      output = try Subprocess.run([tool("sha256sum"), path])
    } catch {
      throw EngineError(
        .system, "cannot run sha256sum", help: "install coreutils", errno: .ioError, detail: "\(error)")
    }
    let hex = String(decoding: output.stdout.prefix(64), as: UTF8.self)
    guard WaitStatus(rawValue: output.status).exitCode == 0, Digest.isValid("sha256:" + hex) else {
      throw EngineError(
        .system, "sha256sum failed on \(path)", errno: .ioError,
        detail: String(decoding: output.stderr, as: UTF8.self))
    }
    return "sha256:" + hex
  }

  /// Compresses `tarPath` with zstd (as xc's layers are), or gzip where zstd is missing.
  private func compress(_ tarPath: String, into stem: String) throws -> (String, String) {
    let zstd = Self.tool("zstd")
    let useZstd = access(zstd, X_OK) == 0
    let (argv, path, type) =
      useZstd
      ? ([zstd, "-q", "-c", "-3", "--no-progress"], stem + ".tar.zst", OCI.layerTar + "+zstd")
      : ([Self.tool("gzip"), "-n", "-c"], stem + ".tar.gz", OCI.layerTar + "+gzip")
    let input = try sysCall("open \(tarPath)") { open(tarPath, O_RDONLY | O_CLOEXEC) }
    defer { closeQuietly(input) }
    let output = try sysCall("create \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
    defer { closeQuietly(output) }
    let errPath = stem + ".err"
    let errFD = try sysCall("create \(errPath)") { open(errPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600) }
    defer {
      closeQuietly(errFD)
      unlink(errPath)
    }
    let status: Int32
    do {
      status = try Subprocess.wait(try Subprocess.spawn(argv, stdin: input, stdout: output, stderr: errFD))
    } catch {
      unlink(path)
      throw EngineError(
        .system, "cannot run \(argv[0]) to compress the layer", help: "install zstd (apt-get install zstd)",
        errno: .ioError, detail: "\(error)")
    }
    guard WaitStatus(rawValue: status).exitCode == 0 else {
      unlink(path)
      throw EngineError(
        .system, "\(argv[0]) failed to compress the layer", errno: .ioError,
        detail: (try? FileSystem.readString(errPath)) ?? "")
    }
    return (path, type)
  }

  /// Stores `layer` as a blob and registers a new image: `base`'s layers plus this one, its
  /// config with the new diff id and a history entry, a new manifest, the unpacked tree, and
  /// the tag `reference`. The staged file is moved into the store.
  func commit(_ layer: StagedLayer, onto base: ImageRecord, as reference: ImageReference, createdBy: String) throws
    -> ImageRecord
  {
    defer { layer.discard() }
    importLock.lock()
    defer { importLock.unlock() }
    guard let tag = reference.tag else {
      throw EngineError(.badReference, "a commit needs a tag, not a digest", errno: .invalidArgument)
    }
    if !FileSystem.exists(layout.blob(layer.digest)) {
      try sysCall("store blob \(layer.digest)") { rename(layer.path, layout.blob(layer.digest)) }
    }
    var manifest = try JSONDecoder().decode(
      OCI.Manifest.self, from: Data(try FileSystem.readBytes(layout.blob(base.manifest_digest))))
    manifest.layers.append(.init(mediaType: layer.mediaType, digest: layer.digest, size: layer.size))

    var image = base.manifest
    image.rootfs.diff_ids.append(layer.diffID)
    let formatter = ISO8601DateFormatter()
    image.history.append(.init(created: formatter.string(from: Date()), created_by: createdBy, empty_layer: nil))
    let configBytes = Array(try StateStore.encode(image).utf8)
    let configDigest = Digest.of(configBytes)
    try FileSystem.writeAtomically(layout.blob(configDigest), configBytes)
    manifest.config = .init(mediaType: OCI.configMediaType, digest: configDigest, size: Int64(configBytes.count))
    manifest.mediaType = OCI.manifestMediaType
    let manifestBytes = Array(try StateStore.encode(manifest).utf8)
    let manifestDigest = Digest.of(manifestBytes)
    try FileSystem.writeAtomically(layout.blob(manifestDigest), manifestBytes)

    let chainID = Digest.chainID(image.rootfs.diff_ids) ?? layer.diffID
    let tree = layout.imageTree(chainID: chainID)
    if !FileSystem.isDirectory(tree) {
      try makeTree(tree, base: base, layer: layer, layers: manifest.layers.map(\.digest), diffIDs: image.rootfs.diff_ids)
    }
    let record = ImageRecord(
      image_reference: reference.description, digest: configDigest, manifest: image,
      manifest_digest: manifestDigest, chain_id: chainID, layers: manifest.layers.map(\.digest),
      created: Int64(Date().timeIntervalSince1970 * 1e9))
    try state.saveImage(record, repository: reference.repository, tag: tag)
    logger.info("committed image", metadata: ["reference": "\(reference)", "diff_id": "\(layer.diffID)"])
    return record
  }

  /// The new image's tree: a copy of the base's tree with the new layer applied (its tar is
  /// at hand, already hashed), renamed into place; from all the blobs if the base tree is gone.
  private func makeTree(
    _ tree: String, base: ImageRecord, layer: StagedLayer, layers: [String], diffIDs: [String]
  ) throws {
    let baseTree = layout.imageTree(chainID: base.chain_id)
    guard FileSystem.isDirectory(baseTree) else {
      try unpack(layers: layers, diffIDs: diffIDs, into: tree)
      return
    }
    let temp = layout.tmp + "/unpack-\(UUID().uuidString.prefix(8))"
    do {
      let copy = try Subprocess.run([Self.tool("cp"), "-a", "--reflink=auto", baseTree, temp])
      guard WaitStatus(rawValue: copy.status).exitCode == 0 else {
        throw EngineError(
          .system, "cannot copy the base image's tree", errno: .ioError,
          detail: String(decoding: copy.stderr, as: UTF8.self))
      }
      let fd = try sysCall("open \(layer.tarPath)") { open(layer.tarPath, O_RDONLY | O_CLOEXEC) }
      defer { closeQuietly(fd) }
      var reader = TarReader(fd: fd)
      var unpacker = LayerUnpacker(root: temp)
      try unpacker.apply(&reader)
      unpacker.finish()
      try sysCall("rename unpacked tree") { rename(temp, tree) }
    } catch {
      try? FileSystem.removeTree(temp)
      throw error
    }
  }
}
