import Foundation
import Glibc
import Logging
import Synchronization

/// One push of a stored image to a registry (xc's `push_image`): each layer and the config
/// are uploaded unless the registry has them (HEAD), then the manifest, byte for byte as
/// stored, is put under the remote tag. Progress and failure are read with `status`.
final class ImagePush: @unchecked Sendable {
  let local: ImageReference
  let remote: ImageReference
  private let image: ImageStore.Pushable
  private let store: ImageStore
  private let client: RegistryClient
  private let logger: Logger
  private let progress: Mutex<PushStatus>

  init(
    local: ImageReference, remote: ImageReference, image: ImageStore.Pushable, endpoint: RegistryEndpoint,
    store: ImageStore, logger: Logger
  ) {
    self.local = local
    self.remote = remote
    self.image = image
    self.store = store
    self.logger = logger
    client = RegistryClient(endpoint: endpoint, imageName: remote.name, push: true)
    var initial = PushStatus()
    initial.layers = image.manifest.layers.map(\.digest)
    progress = Mutex(initial)
  }

  var status: PushStatus { progress.withLock { $0 } }

  var isFinished: Bool {
    let s = status
    return s.done || s.fault != nil
  }

  /// Uploads everything; never throws (failure sets `fault`).
  func run() {
    defer { client.close() }
    let started = ContinuousClock.now
    do {
      try client.authenticate()
      for (index, layer) in image.manifest.layers.enumerated() {
        progress.withLock { $0.currentUploadIndex = index }
        try upload(layer)
      }
      progress.withLock { $0.currentUploadIndex = nil }
      try upload(image.manifest.config)
      progress.withLock { $0.configPushed = true }
      let reference = remote.digest ?? remote.tag ?? "latest"
      if let digest = remote.digest, digest != image.manifestDigest {
        throw EngineError(
          .badReference, "\(remote) names digest \(digest) but the image's manifest is \(image.manifestDigest)",
          help: "push to a tag, or to the image's own digest", errno: .invalidArgument)
      }
      let answered = try client.putManifest(image.manifestBytes, mediaType: image.mediaType, reference: reference)
      if let answered, answered != image.manifestDigest {
        throw EngineError(
          .digestMismatch, "the registry stored the manifest as \(answered), expected \(image.manifestDigest)",
          errno: .ioError)
      }
      progress.withLock {
        $0.manifestPushed = true
        $0.done = true
      }
      logger.info(
        "pushed image",
        metadata: ["local": "\(local)", "remote": "\(remote)", "duration": "\(ContinuousClock.now - started)"])
    } catch {
      let text = (error as? EngineError).map(ImagePull.describe) ?? "\(error)"
      progress.withLock { $0.fault = text }
      logger.notice("push of \(local) to \(remote) failed: \(text)")
    }
  }

  private func upload(_ blob: OCI.Descriptor) throws {
    let began = ContinuousClock.now
    progress.withLock {
      $0.bytes = 0
      $0.durationMs = 0
      $0.currentLayerSize = blob.size
    }
    if try client.hasBlob(blob.digest) {
      progress.withLock { $0.bytes = blob.size }
      return
    }
    try client.uploadBlob(blob.digest, fromFile: store.blobPath(blob.digest), size: blob.size) { [self] sent in
      let elapsed = ContinuousClock.now - began
      progress.withLock {
        $0.bytes = sent
        $0.durationMs = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
      }
    }
    let elapsed = ContinuousClock.now - began
    progress.withLock {
      $0.bytes = blob.size
      $0.durationMs = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
  }
}
