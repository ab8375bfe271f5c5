import Foundation
import Glibc

/// The engine's volumes: kept by `Volumes`; the engine adds the check that it is open, the
/// image a template names, and whether a live container mounts one.
extension Engine {
  /// Creates a volume (xc's `create_volume`). With `device`, an existing directory is
  /// registered (and kept when the volume is removed); without, a new directory
  /// `<directory or state dir/volumes>/<name>` is made. `template` (image, slot key) must name
  /// a slot the image declares. The zfs driver is unsupported on Linux.
  @discardableResult
  public func createVolume(
    name: String, driver: VolumeRecord.Driver, device: String? = nil,
    template: (image: String, slot: String)? = nil, directory: String? = nil
  ) throws -> VolumeRecord {
    try checkOpen()
    try Volumes.validateName(name)
    if let template, driver != .zfs, try state.volume(name) == nil {
      let image = try imageStore.resolve(ImageReference(parsing: template.image))
      guard image.manifest.jailConfig.mounts[template.slot] != nil else {
        throw EngineError(
          .badRequest, "image \(template.image) declares no volume \"\(template.slot)\"", errno: .noSuchFileOrDirectory)
      }
    }
    return try volumeStore.create(name: name, driver: driver, device: device, directory: directory)
  }

  /// Every volume, by name.
  public func volumes() throws -> [VolumeRecord] { try volumeStore.all() }

  /// Removes a volume no live container mounts; a directory the engine made is deleted
  /// with its content, a registered one is kept.
  public func removeVolume(_ name: String) throws {
    try checkOpen()
    // Under the containers' lock: a create that resolved this volume either is live (and
    // refuses the removal here) or confirms the volume after reserving and fails.
    let record = try lock.withLock {
      try volumeStore.delete(name) { name in
        if let user = live.values.first(where: { ($0.record.mounts ?? []).contains { $0.volume == name } }) {
          throw EngineError(
            .volumeInUse, "volume \(name) is mounted by container \(user.record.name) (\(user.id))",
            help: "stop that container first", errno: .resourceBusy)
        }
      }
    }
    volumeStore.removeDirectory(of: record)
    logger.info("removed volume", metadata: ["name": "\(name)"])
  }

  /// `mount_req` resolved against the image's slots (see `Volumes.resolve`).
  func resolveMounts(_ requests: [ContainerSpec.MountRequest], image: ImageRecord) throws -> [VolumeMount] {
    try volumeStore.resolve(requests, image: image)
  }

  /// The runc bind mounts for resolved mounts.
  static func bindMounts(_ mounts: [VolumeMount]) -> [RuntimeSpec.Mount] { Volumes.bindMounts(mounts) }
}
