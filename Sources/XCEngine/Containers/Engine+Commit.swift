import Foundation
import Glibc
import SystemPackage

extension Engine {
  /// xc's `commit`: the container's changes (its overlay upper directory) become a new layer
  /// on top of its image, tagged `reference` (`name:tag`). Returns the layer's diff id and
  /// the new image. Works on a live container, or an ended one kept with `no_clean`.
  public func commit(_ container: String, as reference: String) throws -> (diffID: String, image: ImageRecord) {
    try checkOpen()
    let ref = try ImageReference(parsing: reference)
    guard ref.tag != nil else {
      throw EngineError(.badReference, "a commit needs name:tag, not a digest: \(reference)", errno: .invalidArgument)
    }
    let (record, upper, placeholders) = try commitSource(container)
    guard let base = try state.image(manifestDigest: record.image_digest, reference: record.image_reference) else {
      throw EngineError.imageNotFound(record.image_reference)
    }
    let layer = try imageStore.makeLayer(fromUpper: upper, placeholders: placeholders)
    let image = try imageStore.commit(layer, onto: base, as: ref, createdBy: "xc commit \(record.name)")
    return (layer.diffID, image)
  }

  /// `commit` with `alt_out`: writes the layer archive (zstd) to `fd` and registers nothing.
  /// Returns the layer's diff id.
  public func commitLayer(_ container: String, to fd: FileDescriptor) throws -> String {
    try checkOpen()
    let (_, upper, placeholders) = try commitSource(container)
    let layer = try imageStore.makeLayer(fromUpper: upper, placeholders: placeholders)
    defer { layer.discard() }
    let input = try sysCall("open \(layer.path)") { open(layer.path, O_RDONLY | O_CLOEXEC) }
    defer { closeQuietly(input) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = try buffer.withUnsafeMutableBytes { try readSome(input, into: $0) }
      if n == 0 { break }
      do {
        try buffer.withUnsafeBytes { try writeAll(fd.rawValue, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      } catch let e as EngineError {
        throw EngineError(.system, "cannot write the layer to alt_out", errno: e.errno, detail: e.message)
      }
    }
    return layer.diffID
  }

  /// The container's record, its upper directory, and the mount points runc made in it.
  private func commitSource(_ name: String) throws -> (ContainerRecord, String, Set<String>) {
    let (record, _) = try container(name)
    guard let changes = snapshots.changes(record.id, initPath: ContainerRuntime.initPath) else {
      throw EngineError(
        .notRunning, "container \(name) has ended and its changes are gone",
        help: "commit a running container, or one created with no_clean", errno: .noSuchFileOrDirectory)
    }
    return (record, changes.upper, changes.placeholders)
  }
}
