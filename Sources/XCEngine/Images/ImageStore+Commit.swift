import Foundation
import Glibc

/// A layer archive made from a directory tree, staged in the store's tmp dir.
struct StagedLayer {
  /// The compressed archive (zstd, or gzip without zstd); the caller removes or keeps it.
  var path: String
  /// Digest and size of the compressed archive (the blob).
  var digest: String
  var size: Int64
  /// Digest of the uncompressed tar (the OCI diff id).
  var diffID: String
  var mediaType: String
}

extension ImageStore {
  /// Archives an overlayfs upper directory as a compressed OCI layer, whiteouts translated
  /// (see `TreeArchiver`). `placeholders` are runc's mount points, left out when empty.
  func makeLayer(fromUpper upper: String, placeholders: Set<String>) throws -> StagedLayer {
    let stem = layout.tmp + "/commit-\(UUID().uuidString.prefix(8))"
    let tarPath = stem + ".tar"
    defer { unlink(tarPath) }
    let diffID: String
    do {
      let out = try sysCall("create \(tarPath)") { open(tarPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
      defer { closeQuietly(out) }
      let root = try sysCall("open \(upper)") { open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
      defer { closeQuietly(root) }
      var archiver = TreeArchiver(writer: TarStreamWriter(fd: out))
      archiver.overlayWhiteouts = true
      archiver.placeholders = placeholders
      try archiver.addChildren(of: root, prefix: "")
      diffID = try archiver.writer.finish()
    }
    let (compressed, mediaType) = try compress(tarPath, into: stem)
    do {
      let (digest, size) = try Self.digest(ofFile: compressed)
      return StagedLayer(path: compressed, digest: digest, size: size, diffID: diffID, mediaType: mediaType)
    } catch {
      unlink(compressed)
      throw error
    }
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
        errno: EIO, detail: "\(error)")
    }
    guard WaitStatus.exitCode(status) == 0 else {
      unlink(path)
      throw EngineError(
        .system, "\(argv[0]) failed to compress the layer", errno: EIO,
        detail: (try? FileSystem.readString(errPath)) ?? "")
    }
    return (path, type)
  }

  /// SHA-256 and size of a file.
  static func digest(ofFile path: String) throws -> (String, Int64) {
    let fd = try sysCall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
    defer { closeQuietly(fd) }
    var hasher = SHA256()
    var size: Int64 = 0
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = try buffer.withUnsafeMutableBytes { try readSome(fd, into: $0) }
      if n == 0 { break }
      buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      size += Int64(n)
    }
    return ("sha256:" + hasher.finalizeHex(), size)
  }

  /// Stores `layer` as a blob and registers a new image: `base`'s layers plus this one, its
  /// config with the new diff id and a history entry, a new manifest, the unpacked tree, and
  /// the tag `reference`. The staged file is moved into the store.
  func commit(_ layer: StagedLayer, onto base: ImageRecord, as reference: ImageReference, createdBy: String) throws
    -> ImageRecord
  {
    importLock.lock()
    defer { importLock.unlock() }
    guard let tag = reference.tag else {
      throw EngineError(.badReference, "a commit needs a tag, not a digest", errno: EINVAL)
    }
    if FileSystem.exists(layout.blob(layer.digest)) {
      unlink(layer.path)
    } else {
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
      try unpack(layers: manifest.layers.map(\.digest), diffIDs: image.rootfs.diff_ids, into: tree)
    }
    let record = ImageRecord(
      image_reference: reference.description, digest: configDigest, manifest: image,
      manifest_digest: manifestDigest, chain_id: chainID, layers: manifest.layers.map(\.digest),
      created: Int64(Date().timeIntervalSince1970 * 1e9))
    try state.saveImage(record, repository: reference.repository, tag: tag)
    logger.info("committed image", metadata: ["reference": "\(reference)", "diff_id": "\(layer.diffID)"])
    return record
  }
}
