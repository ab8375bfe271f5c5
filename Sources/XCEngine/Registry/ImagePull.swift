import Foundation
import Glibc
import Logging
import Synchronization

/// One pull of an image from a registry into the store, as xc's `pull_image` does it:
/// `prepare` fetches the manifest (choosing this host's platform in an index) and the config,
/// synchronously; `run` then fetches the layers, unpacking each while it downloads, verifies
/// every digest and diff id, and registers the image exactly as an import does. Progress
/// and failure are read with `status`.
final class ImagePull: @unchecked Sendable {
  let reference: ImageReference
  /// Extra tags: the default registry's name for host-less references, `rename_reference`.
  let extraTags: [ImageReference]
  private let client: RegistryClient
  private let store: ImageStore
  private let logger: Logger
  private let progress: Mutex<PullStatus>

  // Set by `prepare`.
  private var manifest: OCI.Manifest?
  private var manifestBytes: [UInt8] = []
  private var config: OCI.ImageConfig?
  private var configBytes: [UInt8] = []

  init(
    reference: ImageReference, extraTags: [ImageReference], endpoint: RegistryEndpoint,
    store: ImageStore, logger: Logger
  ) {
    self.reference = reference
    self.extraTags = extraTags
    self.store = store
    self.logger = logger
    client = RegistryClient(endpoint: endpoint, imageName: reference.name, push: false)
    progress = Mutex(PullStatus(state: .downloadManifest))
  }

  var status: PullStatus { progress.withLock { $0 } }

  var isFinished: Bool {
    let state = status.state
    return state == .done || state == .faulted
  }

  /// Fetches and checks the manifest and the config. On failure the pull is faulted and the
  /// error thrown.
  func prepare() throws {
    do {
      try client.authenticate()
      let (manifestBytes, manifest) = try fetchImageManifest()
      self.manifestBytes = manifestBytes
      self.manifest = manifest
      progress.withLock {
        $0.state = .downloadConfig
        $0.manifest = manifestBytes
        $0.layers = manifest.layers.map { .init(digest: $0.digest, downloaded: 0, total: $0.size) }
      }
      let configBytes = try client.smallBlob(manifest.config)
      let config: OCI.ImageConfig
      do {
        config = try JSONDecoder().decode(OCI.ImageConfig.self, from: Data(configBytes))
      } catch {
        throw EngineError(
          .registryFailed, "the image config \(manifest.config.digest) is not valid: \(error)", errno: .invalidArgument)
      }
      guard config.rootfs.diff_ids.count == manifest.layers.count else {
        throw EngineError(
          .registryFailed,
          "the config lists \(config.rootfs.diff_ids.count) layers but the manifest \(manifest.layers.count)",
          errno: .invalidArgument)
      }
      for id in config.rootfs.diff_ids where !Digest.isValid(id) {
        throw EngineError(.registryFailed, "the config has an unsupported diff id \(id)", errno: .invalidArgument)
      }
      self.config = config
      self.configBytes = configBytes
      progress.withLock { $0.config = configBytes }
    } catch {
      fail(error)
      client.close()
      throw error
    }
  }

  /// The image manifest for this host: the tag's own, or the `linux/<arch>` entry of the
  /// index it names.
  private func fetchImageManifest() throws -> ([UInt8], OCI.Manifest) {
    var fetched = try client.manifest(reference.digest ?? reference.tag ?? "latest")
    for _ in 0..<3 {
      let probe = try decode(OCI.ManifestProbe.self, fetched.bytes, "manifest")
      let type = probe.mediaType ?? fetched.mediaType
      if type == OCI.dockerSchema1 || type == OCI.dockerSchema1Signed || probe.schemaVersion == 1 {
        throw EngineError(
          .registryFailed, "\(reference) has a Docker schema 1 manifest, which is not supported",
          help: "push the image again with a current tool (schema 2 or OCI)", errno: .invalidArgument)
      }
      if let entries = probe.manifests {
        let arch = ImageStore.hostArchitecture
        guard
          let chosen = entries.first(where: { $0.platform?.os == "linux" && $0.platform?.architecture == arch })
            ?? entries.first(where: { $0.platform == nil })
        else {
          let offered = entries.compactMap { $0.platform.map { "\($0.os)/\($0.architecture)" } }
          throw EngineError(
            .registryNotFound,
            "\(reference) has no image for linux/\(arch) (it has \(offered.joined(separator: ", ")))",
            errno: .noSuchFileOrDirectory)
        }
        fetched = try client.manifest(chosen.digest)
        continue
      }
      let manifest = try decode(OCI.Manifest.self, fetched.bytes, "manifest")
      for d in [manifest.config] + manifest.layers where !Digest.isValid(d.digest) {
        throw EngineError(
          .registryFailed, "the manifest names an unsupported digest \(d.digest) (only sha256 is supported)",
          errno: .invalidArgument)
      }
      return (fetched.bytes, manifest)
    }
    throw EngineError(.registryFailed, "the manifest of \(reference) nests indexes too deeply", errno: .invalidArgument)
  }

  /// Fetches the layers and registers the image; never throws (failure faults the pull).
  func run() {
    defer { client.close() }
    let started = ContinuousClock.now
    do {
      let record = try fetchLayersAndRegister()
      let tags = [record.image_reference] + extraTags.map(\.description)
      progress.withLock {
        $0.state = .done
        $0.tagged = tags
      }
      logger.info(
        "pulled image",
        metadata: [
          "reference": "\(reference)", "tags": "\(tags.joined(separator: ", "))",
          "duration": "\(ContinuousClock.now - started)",
        ])
    } catch {
      fail(error)
    }
  }

  private func fetchLayersAndRegister() throws -> ImageRecord {
    guard let manifest, let config else { throw EngineError(.state, "pull not prepared", errno: .invalidArgument) }
    progress.withLock { $0.state = .downloadLayers }
    let layout = store.layout
    let staging = layout.tmp + "/pull-\(UUID().uuidString.prefix(8))"
    try FileSystem.makeDirectories(staging, mode: 0o700)
    defer { try? FileSystem.removeTree(staging) }

    let configPath = staging + "/config"
    let configFD = try sysCall("create \(configPath)") {
      open(configPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    }
    defer { closeQuietly(configFD) }
    try writeAll(configFD, configBytes)  // staging: no fsync (the store's own writes sync)
    var blobs: [String: ArchiveReader.Member] = [
      manifest.config.digest: .init(stagedPath: configPath, digest: manifest.config.digest, size: manifest.config.size)
    ]

    // Unpack only when no image with these layers has been unpacked before.
    let diffIDs = config.rootfs.diff_ids
    let chainID = Digest.chainID(diffIDs) ?? Digest.of([])
    var tree: String?
    var unpacker: LayerUnpacker?
    if !FileSystem.isDirectory(layout.imageTree(chainID: chainID)) {
      let temp = layout.tmp + "/unpack-\(UUID().uuidString.prefix(8))"
      try FileSystem.makeDirectories(temp, mode: 0o755)
      tree = temp
      unpacker = LayerUnpacker(root: temp)
    }
    let began = ContinuousClock.now
    do {
      for (index, layer) in manifest.layers.enumerated() {
        let stored = layout.blob(layer.digest)
        let diffID: String?
        if FileSystem.exists(stored) {
          blobs[layer.digest] = .init(stagedPath: stored, digest: layer.digest, size: layer.size)
          if var u = unpacker {
            diffID = try store.applyLayer(stored, &u)
            unpacker = u
          } else {
            diffID = nil
          }
          setDownloaded(index, layer.size)
        } else {
          let path = staging + "/layer-\(index)"
          diffID = try download(index, layer, to: path, unpacker: &unpacker, scratch: staging)
          blobs[layer.digest] = .init(stagedPath: path, digest: layer.digest, size: layer.size)
        }
        logger.debug(
          "layer fetched", metadata: ["digest": "\(layer.digest)", "elapsed": "\(ContinuousClock.now - began)"])
        if let diffID, diffID != diffIDs[index] {
          throw EngineError(
            .digestMismatch, "layer \(layer.digest) unpacks to \(diffID), the config says \(diffIDs[index])",
            help: "the image in the registry is corrupt; refusing it", errno: .invalidArgument)
        }
      }
      progress.withLock { $0.state = .extractLayers }
      if let tree {
        unpacker?.finish()
        try sysCall("chmod \(tree)") { chmod(tree, 0o755) }
      }
      logger.debug("layers unpacked", metadata: ["elapsed": "\(ContinuousClock.now - began)"])
      return try store.registerPulled(
        manifest, manifestBytes: manifestBytes, blobs: blobs, tree: tree, chainID: chainID,
        references: [reference] + extraTags)
    } catch {
      if let tree { try? FileSystem.removeTree(tree) }
      throw error
    }
  }

  /// Downloads one layer to `path`, verifying its digest and size; with an unpacker, the
  /// bytes are unpacked as they arrive and the layer's diff id is returned.
  private func download(
    _ index: Int, _ layer: OCI.Descriptor, to path: String, unpacker: inout LayerUnpacker?,
    scratch: String
  ) throws -> String? {
    let out = try sysCall("create \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
    defer { closeQuietly(out) }
    let feed = unpacker == nil ? nil : LayerFeed(scratch: scratch)
    let sink = BlobSink(fd: out, expected: layer.size) { [self] received in
      setDownloaded(index, received)
    }
    let done = DispatchSemaphore(value: 0)
    let outcome = Mutex<(any Error)?>(nil)
    let client = self.client
    let thread = Thread {
      do {
        // A feed that fails (corrupt gzip, unpacker gone) stops being fed, but the download
        // goes on, so a wrong digest is reported as such rather than as its symptom.
        var feeding = feed != nil
        try client.downloadBlob(layer.digest) { chunk in
          try sink.take(chunk)
          if feeding, let feed {
            do {
              try feed.write(chunk)
            } catch {
              feeding = false
              feed.finishInput()
            }
          }
        }
      } catch {
        outcome.withLock { $0 = error }
      }
      feed?.finishInput()
      done.signal()
    }
    thread.name = "xcd.pull.layer"
    thread.start()

    var diffID: String?
    var unpackError: (any Error)?
    if let feed, var u = unpacker {
      if let fd = feed.waitSource() {
        do {
          var reader = TarReader(fd: fd, hashing: true)
          try u.apply(&reader)
          diffID = "sha256:" + (try reader.finishHash() ?? "")
        } catch {
          unpackError = error
        }
        do {
          try feed.finishOutput(check: unpackError == nil)
        } catch {
          unpackError = error
        }
      }
      unpacker = u
    }
    done.wait()
    if let error = outcome.withLock({ $0 }) { throw error }
    let (digest, size) = sink.finish()
    guard size == layer.size, digest == layer.digest else {
      throw EngineError(
        .digestMismatch,
        "the layer \(layer.digest) from \(client.endpoint.name) has digest \(digest) and \(size) bytes (expected \(layer.size))",
        help: "the registry served wrong content; refusing it", errno: .invalidArgument)
    }
    if let error = feed?.decompressError { throw error }
    if let unpackError { throw unpackError }
    if feed != nil && diffID == nil {
      throw EngineError(.badArchive, "the layer \(layer.digest) is empty", errno: .invalidArgument)
    }
    return diffID
  }

  private func setDownloaded(_ index: Int, _ bytes: Int64) {
    progress.withLock { status in
      if index < status.layers.count { status.layers[index].downloaded = bytes }
    }
  }

  private func fail(_ error: any Error) {
    let text = (error as? EngineError).map(Self.describe) ?? "\(error)"
    progress.withLock {
      $0.state = .faulted
      $0.fault = text
    }
    logger.notice("pull of \(reference) failed: \(text)")
  }

  /// An engine error as one line for `fault`.
  static func describe(_ e: EngineError) -> String {
    var text = e.message
    if let detail = e.detail?.trimmingCharacters(in: .whitespacesAndNewlines), !detail.isEmpty {
      text += ": \(detail)"
    }
    if let help = e.help { text += " (help: \(help))" }
    return text
  }

  private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(bytes))
    } catch {
      throw EngineError(.registryFailed, "the registry sent an invalid \(what) for \(reference): \(error)", errno: .invalidArgument)
    }
  }
}

/// Writes a downloaded blob to its file while hashing it and counting bytes (on the HTTP
/// delegate's thread); refuses more bytes than the manifest announced.
final class BlobSink: @unchecked Sendable {
  private let fd: CInt
  private let expected: Int64
  private var hasher = SHA256()
  private var received: Int64 = 0
  private var lastReport: Int64 = 0
  private let report: (Int64) -> Void

  init(fd: CInt, expected: Int64, report: @escaping (Int64) -> Void) {
    self.fd = fd
    self.expected = expected
    self.report = report
  }

  func take(_ chunk: UnsafeRawBufferPointer) throws {
    received += Int64(chunk.count)
    guard received <= expected else {
      throw EngineError(
        .digestMismatch, "the registry sent more than the \(expected) bytes the manifest announced",
        help: "the registry served wrong content; refusing it", errno: .invalidArgument)
    }
    hasher.update(chunk)
    try writeAll(fd, chunk)
    // Progress every 256 KiB and at the end: the status lock is shared with readers.
    if received - lastReport >= 1 << 18 || received == expected {
      lastReport = received
      report(received)
    }
  }

  /// The digest and size of everything taken.
  func finish() -> (String, Int64) {
    ("sha256:" + hasher.finalizeHex(), received)
  }
}
