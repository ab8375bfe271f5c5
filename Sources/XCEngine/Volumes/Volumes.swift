import Foundation
import Glibc
import Logging
import SystemPackage


extension ContainerSpec {
  /// One `mount_req` entry: what to bind-mount where.
  public struct MountRequest: Sendable {
    /// A volume's name, or an absolute host path.
    public var source: String
    /// An absolute path in the container, or the key of a volume slot the image declares.
    public var destination: String
    /// For a host path: a descriptor opened on it (xc's "evidence" that the client may
    /// reach it); its inode must be the path's.
    public var evidence: FileDescriptor?
    public var read_only: Bool

    public init(source: String, destination: String, evidence: FileDescriptor? = nil, read_only: Bool = false) {
      self.source = source
      self.destination = destination
      self.evidence = evidence
      self.read_only = read_only
    }
  }
}

/// Volumes: directories the engine made or registered, kept in the state store, and their
/// resolution into a container's bind mounts. Its state is the volume rows (each change one
/// transaction) and the directories it made; whether a live container mounts a volume is the
/// engine's to check (`Engine.removeVolume`).
final class Volumes: Sendable {
  let state: StateStore
  let logger: Logger
  /// Where volumes without a directory of their own are made.
  let defaultBase: String

  init(layout: StateLayout, state: StateStore, logger: Logger) {
    self.state = state
    self.logger = logger
    defaultBase = layout.root + "/volumes"
  }

  /// Creates a volume (xc's `create_volume`). With `device`, an existing directory is
  /// registered (and kept when the volume is removed); without, a new directory
  /// `<directory or state dir/volumes>/<name>` is made. `template` (image, slot key) must name
  /// a slot the image declares. The zfs driver is unsupported on Linux.
  /// `template` is checked by the engine (it needs the image store).
  func create(
    name: String, driver: VolumeRecord.Driver, device: String?, directory: String?
  ) throws -> VolumeRecord {
    try Self.validateName(name)
    if driver == .zfs {
      throw EngineError(
        .unsupported, "the zfs volume driver is unsupported on Linux",
        help: "create a directory volume (kind \"directory\")", errno: .notSupported)
    }
    if try state.volume(name) != nil {
      throw EngineError(.volumeExists, "volume \(name) already exists", errno: .fileExists)
    }
    var record = VolumeRecord(
      name: name, driver: driver, device: "", owned: false, rw_users: nil, authorized_users: nil,
      created: Engine.nowNanos())
    if let device {
      guard device.hasPrefix("/") else {
        throw EngineError(.badRequest, "device \(device) is not an absolute path", errno: .invalidArgument)
      }
      var st = stat()
      guard stat(device, &st) == 0 else {
        throw EngineError(.badRequest, "No such directory: \(device)", errno: .noSuchFileOrDirectory)
      }
      guard (st.st_mode & S_IFMT) == S_IFDIR else {
        throw EngineError(.badRequest, "device \(device) is not a directory", errno: .notDirectory)
      }
      record.device = device
    } else {
      let base = directory ?? defaultBase
      try FileSystem.makeDirectories(base, mode: 0o711)
      let path = base + "/" + name
      guard mkdir(path, 0o755) == 0 else {
        if errno == EEXIST {
          throw EngineError(.volumeExists, "Target directory already exists: \(path)", errno: .fileExists)
        }
        throw EngineError.system("create volume directory \(path)")
      }
      record.device = path
      record.owned = true
    }
    guard try state.insertVolume(record) else {
      if record.owned { rmdir(record.device) }
      throw EngineError(.volumeExists, "volume \(name) already exists", errno: .fileExists)
    }
    logger.info("created volume", metadata: ["name": "\(name)", "device": "\(record.device)"])
    return record
  }

  /// Every volume, by name.
  func all() throws -> [VolumeRecord] {
    try state.volumes()
  }

  /// Deletes volume `name`'s row, once `inUse` (called inside the same check) finds no
  /// container mounting it; returns the record, whose directory `removeDirectory` deletes.
  func delete(_ name: String, inUse: (String) throws -> Void) throws -> VolumeRecord {
    guard let found = try state.volume(name) else {
      throw EngineError(.volumeNotFound, "no such volume \(name)", errno: .noSuchFileOrDirectory)
    }
    try inUse(name)
    try state.deleteVolume(name)
    return found
  }

  /// Deletes the directory of a removed volume, if the engine made it; a failure is logged.
  func removeDirectory(of record: VolumeRecord) {
    guard record.owned else { return }
    do { try FileSystem.removeTree(record.device) } catch {
      logger.warning("cannot remove volume directory", metadata: ["path": "\(record.device)", "error": "\(error)"])
    }
  }

  static func validateName(_ name: String) throws {
    let allowed = name.utf8.allSatisfy {
      ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a)
        || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
    }
    guard !name.isEmpty, name.utf8.count <= 128, allowed, !name.hasPrefix("."), !name.hasPrefix("-") else {
      throw EngineError(
        .badRequest, "bad volume name \"\(name)\": 1 to 128 of A-Z a-z 0-9 _ - . (not first)",
        errno: .invalidArgument)
    }
  }

  // MARK: - Mounting

  /// Resolves `mount_req` as xc does: a relative source names a volume, an absolute one is a
  /// host path whose evidence descriptor must be the same inode; a relative destination is
  /// the key of a slot the image declares (its path and read-only flag apply). Every slot the
  /// image marks required must be mounted.
  func resolve(_ requests: [ContainerSpec.MountRequest], image: ImageRecord) throws -> [VolumeMount] {
    let slots = image.manifest.jailConfig.mounts
    var mounted = Set<String>()
    var out: [VolumeMount] = []
    for (i, r) in requests.enumerated() {
      let field = "mount_req[\(i)]"
      func bad(_ message: String, _ code: Errno = .invalidArgument) -> EngineError {
        EngineError(.badRequest, "\(field): \(message)", errno: code)
      }
      var readOnly = r.read_only
      let destination: String
      if r.destination.hasPrefix("/") {
        destination = r.destination
        if let slot = slots.first(where: { $0.value.destination == destination }) {
          mounted.insert(slot.key)
          readOnly = readOnly || slot.value.read_only
        }
      } else if let slot = slots[r.destination] {
        destination = slot.destination
        mounted.insert(r.destination)
        readOnly = readOnly || slot.read_only
      } else {
        throw bad("dest \"\(r.destination)\" is neither an absolute path nor a volume the image declares")
      }
      guard (try? LayerUnpacker.components(destination))?.isEmpty == false else {
        throw bad("dest \"\(destination)\" must be a path below / without '..'")
      }
      if r.source.hasPrefix("/") {
        guard let evidence = r.evidence else {
          throw bad("missing evidence: evid must be a descriptor opened on \(r.source)", .noSuchFileOrDirectory)
        }
        var path = stat()
        var held = stat()
        guard stat(r.source, &path) == 0 else { throw bad("source \(r.source) does not exist", .noSuchFileOrDirectory) }
        guard fstat(evidence.rawValue, &held) == 0, path.st_dev == held.st_dev, path.st_ino == held.st_ino else {
          throw bad("evidence inode mismatch: evid is not \(r.source)", .noSuchFileOrDirectory)
        }
        out.append(VolumeMount(volume: nil, source: r.source, destination: destination, read_only: readOnly))
      } else {
        guard !r.source.isEmpty else { throw bad("source is empty") }
        guard let volume = try state.volume(r.source) else { throw bad("no such volume \(r.source)", .noSuchFileOrDirectory) }
        guard FileSystem.isDirectory(volume.device) else {
          throw bad("volume \(r.source): its directory \(volume.device) is missing", .noSuchFileOrDirectory)
        }
        out.append(
          VolumeMount(
            volume: volume.name, source: volume.device, destination: destination,
            read_only: readOnly || volume.rw_users != nil))
      }
    }
    for key in slots.keys.sorted() where slots[key]!.required && !mounted.contains(key) {
      throw EngineError(.badRequest, "Required volume \"\(key)\" is not mounted", errno: .noSuchFileOrDirectory)
    }
    return out
  }

  /// After the container is reserved: its volumes still exist (see `removeVolume`).
  func confirm(_ mounts: [VolumeMount]) throws {
    for case let name? in mounts.map(\.volume) where try state.volume(name) == nil {
      throw EngineError(.volumeNotFound, "no such volume \(name)", errno: .noSuchFileOrDirectory)
    }
  }

  /// The runc bind mounts for resolved mounts.
  static func bindMounts(_ mounts: [VolumeMount]) -> [RuntimeSpec.Mount] {
    mounts.map {
      RuntimeSpec.Mount(
        destination: $0.destination, type: "bind", source: $0.source,
        options: ["rbind", $0.read_only ? "ro" : "rw", "nosuid", "nodev"])
    }
  }
}
