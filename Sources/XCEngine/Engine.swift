import CSupport
import Foundation
import Glibc
import Logging
import SystemPackage

/// The Linux engine behind xcd: an image store (OCI blobs, one unpacked tree per image) and
/// containers run with runc on overlayfs roots, with state in SQLite.
///
/// Every method is synchronous and thread-safe unless marked `async`; the daemon calls them
/// from its connection handlers. Errors are `EngineError`s.
///
///     let engine = try Engine(stateDir: "/var/lib/xcd")
///     try engine.importImage(from: fd, reference: "busybox:latest")
///     var spec = ContainerSpec(image_reference: "busybox:latest")
///     spec.entry_point = .init("/bin/echo", args: ["hello"])
///     let c = try engine.createContainer(spec)
///     let done = try await engine.waitExit(c.id)
public final class Engine: @unchecked Sendable {
  /// The state directory (everything the engine keeps lives below it).
  public let stateDir: String
  let layout: StateLayout
  let state: StateStore
  let imageStore: ImageStore
  /// runc, xc-init and the threads that wait for containers' processes.
  let runtime: ContainerRuntime
  /// Networks, leases, interfaces and port redirections.
  let networking: Networking
  /// Volumes and their resolution into bind mounts.
  let volumeStore: Volumes
  /// Containers' roots: overlay mounts over the images' trees.
  let snapshots: Snapshots
  let logger: Logger
  /// An flock(2)ed file in the state dir: one engine per state directory at a time.
  let lockFD: CInt
  var runc: Runc { runtime.runc }
  /// The state dir's copy of xc-init, when there is one; without it main is PID 1.
  var initBinary: String? { runtime.initBinary }

  /// Guards `live` and `closed`.
  let lock = NSLock()
  var live: [String: LiveContainer] = [:]
  /// Ended containers' records and main logs kept for the user (`ps --all`, `logs`, `rm`):
  /// the one place `waitExit` and `container` find a container that ended before they were
  /// called (xc finds terminated containers by exact id).
  let kept: EndedContainers
  var closed = false

  /// Opens (or creates) the engine state in `stateDir` and reconciles it: runc containers
  /// and mounts left by an earlier run are removed (containers are not re-adopted).
  ///
  /// - Parameters:
  ///   - runtime: the runc binary.
  ///   - initBinary: the static `xc-init` to run as each container's PID 1 (default: the one
  ///     built beside the running executable). Without one, main itself is PID 1 and the
  ///     container ends when main exits.
  public init(
    stateDir: String, runtime: String = "/usr/sbin/runc",
    initBinary: String? = Engine.bundledInit,
    logger: Logger = Logger(label: "xcd.engine"),
    defaultNetwork: DefaultNetwork? = nil,
    keepEnded: EndedRetention = .standard
  ) throws {
    layout = StateLayout(root: stateDir)
    self.stateDir = layout.root
    self.logger = logger
    guard access(runtime, X_OK) == 0 else {
      throw EngineError(
        .runtimeFailed, "the OCI runtime \(runtime) is not executable",
        help: "install runc (apt-get install runc)", errno: .noSuchFileOrDirectory)
    }
    let runc = Runc(binary: runtime, root: layout.runc)
    try layout.create()
    lockFD = try Self.lockStateDir(layout)
    do {
      state = try StateStore(path: layout.database)
      if let initBinary {
        // A private copy: containers bind-mount it, whatever happens to the original.
        try FileSystem.writeAtomically(layout.initBinary, try FileSystem.readBytes(initBinary), mode: 0o755)
      }
      self.runtime = ContainerRuntime(
        runc: runc, initBinary: initBinary == nil ? nil : layout.initBinary, logger: logger)
    } catch {
      closeQuietly(lockFD)
      throw error
    }
    imageStore = ImageStore(layout: layout, state: state, logger: logger)
    kept = EndedContainers(dir: layout.ended, retention: keepEnded, logger: logger)
    networking = Networking(layout: layout, state: state, logger: logger, defaultNetwork: defaultNetwork)
    volumeStore = Volumes(layout: layout, state: state, logger: logger)
    snapshots = Snapshots(layout: layout, imageStore: imageStore)
    // A container's init is reparented to us when `runc create` exits, so we can wait(2)
    // for it and learn its exact wait status (see docs/engine.md).
    try sysCall("become child subreaper") { cs_set_child_subreaper() }
    try reconcile()
    try networking.ensureDefault()
    verifyBlobsIfUncleanStop()
  }

  /// `xc-init` beside the running executable (the daemon's, or the test bundle's), if built.
  public static var bundledInit: String? {
    guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
      return nil
    }
    let path = (exe as NSString).deletingLastPathComponent + "/xc-init"
    return access(path, X_OK) == 0 ? path : nil
  }

  private static func lockStateDir(_ layout: StateLayout) throws -> CInt {
    let path = layout.root + "/lock"
    let fd = try sysCall("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      closeQuietly(fd)
      if code == EWOULDBLOCK {
        throw EngineError(
          .state, "the state directory \(layout.root) is in use by another engine",
          help: "stop the other xcd, or give this one its own --state-dir", errno: .resourceBusy)
      }
      throw EngineError.system("lock \(path)", Errno(rawValue: code))
    }
    return fd
  }

  deinit {
    closeQuietly(lockFD)
  }

  var isClosed: Bool {
    lock.lock()
    defer { lock.unlock() }
    return closed
  }

  func checkOpen() throws {
    lock.lock()
    defer { lock.unlock() }
    if closed { throw EngineError(.shutDown, "the engine is shut down", errno: .ioError) }
  }

  // MARK: - Images

  /// Imports the image archive read from `fd` (a tar of an OCI layout, or a `docker save`
  /// tar; layers plain, gzip or zstd) and tags it `reference`, or with the name the archive
  /// gives. The fd is read to its end and not closed.
  @discardableResult
  public func importImage(from fd: FileDescriptor, reference: String? = nil) throws -> [ImageRecord] {
    try checkOpen()
    let ref = try reference.map(ImageReference.init(parsing:))
    return try imageStore.importArchive(fd: fd.rawValue, reference: ref)
  }

  /// Imports one layer archive (plain, gzip or zstd tar) as a single-layer image with
  /// `config` as its xc metadata, tagged `reference` (xc's `fd_import`). The fd is read to
  /// its end and not closed. Returns the new image; its layer's diff id is
  /// `manifest.rootfs.diff_ids[0]`.
  @discardableResult
  public func importLayer(from fd: FileDescriptor, config: JailConfig, reference: String) throws -> ImageRecord {
    try checkOpen()
    return try imageStore.importLayer(fd: fd.rawValue, config: config, reference: ImageReference(parsing: reference))
  }

  /// Every tagged image, one record per tag (xc's `list_all_images`).
  public func images() throws -> [ImageRecord] {
    try state.images()
  }

  /// The image `reference` names (xc's `describe_image`); `image.not_found` if none.
  public func describeImage(_ reference: String) throws -> ImageRecord {
    try imageStore.resolve(ImageReference(parsing: reference))
  }

  /// Every tag of repository `name` (xc's `describe_images`).
  public func describeImages(name: String) throws -> [ImageRecord] {
    try state.images().filter { $0.image_reference.hasPrefix(name + ":") }
  }

  /// Removes a tag, or every tag of a digest in its repository (xc's `remove_image`). The
  /// content stays until `purge`. Succeeds if nothing matched.
  public func removeImage(_ reference: String) throws {
    let ref = try ImageReference(parsing: reference)
    try state.removeTags(repository: ref.repository, tag: ref.tag, digest: ref.digest)
  }

  /// Replaces the image's xc metadata (`xc_extension`), resetting its OCI part, and
  /// re-points the tag at the result (xc's `replace_meta`). Returns the new image.
  public func replaceMeta(_ reference: String, config: JailConfig) throws -> JailImage {
    try checkOpen()
    return try imageStore.replaceMeta(ImageReference(parsing: reference), config: config).manifest
  }

  /// Deletes untagged images, orphaned blobs and unpacked trees no container uses.
  public func purge() throws {
    let inUse = Set(allLive().map { $0.record.image_digest })
    try imageStore.purge(inUse: inUse)
  }

  /// How many containers are live (created and not yet released), from memory: cheap enough
  /// for xcd's idle check to ask every second (no state read).
  public var liveCount: Int {
    lock.withLock { live.count }
  }

  func allLive() -> [LiveContainer] {
    lock.lock()
    defer { lock.unlock() }
    return Array(live.values)
  }
}
