import Foundation
import Glibc

/// The store's side of pulls and pushes.
extension ImageStore {
  /// Registers a pulled image exactly as an import does: its blobs (staged by the pull, or
  /// already in the store) move into the store, the tree the pull unpacked becomes the
  /// image's tree (unless an equal one appeared meanwhile), and every reference is tagged.
  /// Returns the record of the first reference.
  func registerPulled(
    _ manifest: OCI.Manifest, manifestBytes: [UInt8], blobs: [String: ArchiveReader.Member],
    tree: String?, chainID: String, references: [ImageReference]
  ) throws -> ImageRecord {
    importLock.lock()
    defer { importLock.unlock() }
    if let tree {
      let final = layout.imageTree(chainID: chainID)
      if FileSystem.isDirectory(final) {
        try FileSystem.removeTree(tree)
      } else {
        try sysCall("rename unpacked tree") { rename(tree, final) }
      }
    }
    let record = try register(manifest, manifestBytes: manifestBytes, blobs: blobs, as: references[0])
    for extra in references.dropFirst() {
      var tagged = record
      tagged.image_reference = extra.description
      try state.saveImage(tagged, repository: extra.repository, tag: extra.tag ?? Digest.hex(record.manifest_digest))
    }
    return record
  }

  /// What a push of a stored image sends.
  struct Pushable {
    var manifest: OCI.Manifest
    /// The manifest exactly as stored (its digest names the image).
    var manifestBytes: [UInt8]
    var manifestDigest: String
    var mediaType: String
  }

  /// The stored image `reference` names, with every blob it needs checked to be present.
  func pushable(_ reference: ImageReference) throws -> Pushable {
    let record = try resolve(reference)
    let bytes = try FileSystem.readBytes(layout.blob(record.manifest_digest))
    let manifest: OCI.Manifest
    do {
      manifest = try JSONDecoder().decode(OCI.Manifest.self, from: Data(bytes))
    } catch {
      throw EngineError(.state, "the stored manifest of \(reference) is not valid: \(error)", errno: .ioError)
    }
    for d in [manifest.config] + manifest.layers where !FileSystem.exists(layout.blob(d.digest)) {
      throw EngineError(
        .state, "the blob \(d.digest) of \(reference) is missing from the store",
        help: "import or pull the image again", errno: .noSuchFileOrDirectory)
    }
    let type = manifest.mediaType ?? OCI.manifestMediaType
    return Pushable(manifest: manifest, manifestBytes: bytes, manifestDigest: record.manifest_digest, mediaType: type)
  }

  func blobPath(_ digest: String) -> String { layout.blob(digest) }
}
