import Foundation
import Glibc
import SystemPackage

/// Container roots (containerd calls this the snapshotter): each container's directory
/// `<state>/containers/<id>` holds an overlay whose lower layer is its image's unpacked tree,
/// whose upper layer takes its changes, mounted at `rootfs`. Its state is the kernel's mount
/// table and those directories, so it needs no lock: each container's directory is only
/// touched by that container's create and teardown.
struct Snapshots: Sendable {
  let layout: StateLayout
  let imageStore: ImageStore

  /// The container's directory (runc's bundle).
  func bundle(_ id: String) -> String { layout.container(id) }

  /// Mounts the container's root: an overlay over the image's tree, the client's extra
  /// layers applied through it, and its copies written in.
  func mount(
    _ image: ImageRecord, bundle: String, extraLayers: [FileDescriptor], copies: [ContainerSpec.CopyFile]
  ) throws {
    let rootfs = bundle + "/rootfs"
    try FileSystem.makeDirectories(bundle + "/upper", mode: 0o755)
    try FileSystem.makeDirectories(bundle + "/work", mode: 0o700)
    try FileSystem.makeDirectories(rootfs, mode: 0o755)
    try Mount.overlay(
      lower: layout.imageTree(chainID: image.chain_id), upper: bundle + "/upper",
      work: bundle + "/work", at: rootfs)
    try applyLayers(extraLayers, bundle: bundle, rootfs: rootfs)
    let access = RootfsAccess(root: rootfs)
    for copy in copies {
      try access.copy(from: copy.source.rawValue, to: copy.destination)
    }
  }

  /// Applies client-given layers over the mounted root: through the overlay, so files land in
  /// the container's upper dir and whiteouts hide image files without touching the image.
  private func applyLayers(_ layers: [FileDescriptor], bundle: String, rootfs: String) throws {
    guard !layers.isEmpty else { return }
    var unpacker = LayerUnpacker(root: rootfs)
    for (i, layer) in layers.enumerated() {
      // Copied first: the decompressor is chosen by magic bytes, and the fd may be a pipe.
      let copy = bundle + "/extra-layer-\(i)"
      defer { unlink(copy) }
      let out = try sysCall("create \(copy)") { open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
      do {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
          let n = try buffer.withUnsafeMutableBytes { try readSome(layer.rawValue, into: $0) }
          if n == 0 { break }
          try buffer.withUnsafeBytes { try writeAll(out, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        closeQuietly(out)
      } catch {
        closeQuietly(out)
        throw error
      }
      _ = try imageStore.applyLayer(copy, &unpacker)
    }
    unpacker.finish()
  }

  /// Unmounts everything below the container's directory (its root, its network namespace);
  /// every mount is tried, the first failure thrown.
  func unmountAll(bundle: String) throws {
    var first: (any Error)?
    for point in Mount.mountPoints(under: bundle) {
      do { try Mount.unmountForcing(point) } catch { first = first ?? error }
    }
    if let first { throw first }
  }

  /// Removes the container's directory (refused while anything is mounted below it).
  func remove(bundle: String) throws {
    try FileSystem.removeTree(bundle)
  }

  /// The container's changes: its upper directory, and the mount points runc made in it
  /// (from its `config.json`), which are not changes. Nil once the directory is gone.
  func changes(_ id: String, initPath: String) -> (upper: String, placeholders: Set<String>)? {
    let bundle = bundle(id)
    let upper = bundle + "/upper"
    guard FileSystem.isDirectory(upper) else { return nil }
    var placeholders: Set<String> = [String(initPath.dropFirst())]
    if let bytes = try? FileSystem.readBytes(bundle + "/config.json"),
      let spec = try? JSONDecoder().decode(RuntimeSpec.self, from: Data(bytes))
    {
      for mount in spec.mounts {
        let relative = (try? LayerUnpacker.components(mount.destination))?.joined(separator: "/") ?? ""
        if !relative.isEmpty { placeholders.insert(relative) }
      }
    }
    return (upper, placeholders)
  }
}
