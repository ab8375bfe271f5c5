import Foundation
import Glibc

extension ImageStore {
  /// Writes `record`'s image as an OCI image layout tar to `fd` (what `skopeo copy …
  /// oci-archive:` writes and what `importArchive` reads back): `oci-layout`, `index.json`
  /// naming the image, and the manifest, config and layer blobs exactly as stored, so every
  /// digest stays the same.
  func exportArchive(_ record: ImageRecord, to fd: CInt) throws {
    let manifestPath = layout.blob(record.manifest_digest)
    let manifestBytes = try FileSystem.readBytes(manifestPath)
    let manifest: OCI.Manifest
    do {
      manifest = try JSONDecoder().decode(OCI.Manifest.self, from: Data(manifestBytes))
    } catch {
      throw EngineError(.state, "the stored manifest \(record.manifest_digest) of \(record.image_reference) is unreadable: \(error)", errno: .ioError)
    }
    let name = record.image_reference
    let index = OCI.Index(
      schemaVersion: 2, mediaType: OCI.indexMediaType,
      manifests: [
        OCI.Descriptor(
          mediaType: manifest.mediaType ?? OCI.manifestMediaType, digest: record.manifest_digest,
          size: Int64(manifestBytes.count),
          annotations: ["org.opencontainers.image.ref.name": name, "io.containerd.image.name": name])
      ])
    let indexBytes = Array(try StateStore.encode(index).utf8)
    let layoutBytes = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    var tar = TarStreamWriter(fd: fd)
    try tar.header("oci-layout", .file, size: Int64(layoutBytes.count), mode: 0o644)
    try tar.data(layoutBytes)
    try tar.header("index.json", .file, size: Int64(indexBytes.count), mode: 0o644)
    try tar.data(indexBytes)
    try tar.header("blobs/", .directory, mode: 0o755)
    try tar.header("blobs/sha256/", .directory, mode: 0o755)
    var written = Set<String>()
    for digest in [record.manifest_digest, manifest.config.digest] + manifest.layers.map(\.digest)
    where written.insert(digest).inserted {
      let path = layout.blob(digest)
      let source = open(path, O_RDONLY | O_CLOEXEC)
      guard source >= 0 else {
        throw EngineError(.imageNotFound, "the blob \(digest) of \(name) is missing from the store", errno: .noSuchFileOrDirectory)
      }
      defer { close(source) }
      var st = stat()
      guard fstat(source, &st) == 0 else { throw EngineError.system("fstat \(path)") }
      try tar.header("blobs/sha256/" + Digest.hex(digest), .file, size: Int64(st.st_size), mode: 0o644)
      try tar.copyData(from: source, size: Int64(st.st_size))
    }
    try tar.finish()
  }
}

extension Engine {
  /// Writes the image `reference` names to `fd` as an OCI image layout tar (the extension
  /// `xcsh.save_image`; `importImage` reads it back). The descriptor is left open.
  public func saveImage(_ reference: String, to fd: CInt) throws {
    try checkOpen()
    let record = try imageStore.resolve(ImageReference(parsing: reference))
    try imageStore.exportArchive(record, to: fd)
  }
}
