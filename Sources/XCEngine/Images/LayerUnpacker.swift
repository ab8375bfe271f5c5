import Glibc

/// Applies layer archives, in order, onto one directory tree: the image's read-only root.
///
/// Safety: member names are normalised and any `..` component or a path through a symlink
/// is refused (error `image.unsafe_path`), so no layer can write outside the root, even
/// through a symlink an earlier layer created. Whiteouts (`.wh.NAME`, `.wh..wh..opq`) are
/// applied by deleting, since the tree is flattened.
struct LayerUnpacker {
  let root: String
  /// Paths created by the layer being applied; an opaque marker keeps these.
  private var layerPaths: Set<String> = []
  /// Directory mtimes are set last: creating their children would change them.
  private var directoryTimes: [(String, Int64)] = []

  init(root: String) {
    self.root = root
  }

  static func unsafe(_ path: String, _ why: String) -> EngineError {
    EngineError(
      .unsafePath, "refusing layer member \"\(path)\": \(why)",
      help: "the image archive is malformed or hostile; rebuild it", errno: .invalidArgument)
  }

  /// Splits a member name into components, refusing `..`. "./a//b/" → ["a", "b"].
  static func components(_ path: String) throws -> [String] {
    var out: [String] = []
    for part in path.split(separator: "/") where part != "." {
      if part == ".." { throw unsafe(path, "it contains '..'") }
      out.append(String(part))
    }
    return out
  }

  /// Applies every member of `reader`'s archive as one layer.
  mutating func apply(_ reader: inout TarReader) throws {
    layerPaths = []
    while let entry = try reader.next() {
      try applyEntry(entry, &reader)
    }
  }

  /// Sets directory times recorded so far; call after the last layer.
  func finish() {
    for (path, mtime) in directoryTimes.reversed() { setTime(path, mtime) }
  }

  private mutating func applyEntry(_ entry: TarEntry, _ reader: inout TarReader) throws {
    let parts = try Self.components(entry.path)
    guard let name = parts.last else { return }  // the root itself: keep the engine's
    let parentParts = Array(parts.dropLast())
    let parent = try prepareParent(parentParts, entry.path)
    let relative = parts.joined(separator: "/")

    if name == ".wh..wh..opq" {
      let parentRelative = parentParts.joined(separator: "/")
      for child in FileSystem.list(parent) {
        let childRelative = parentRelative.isEmpty ? child : parentRelative + "/" + child
        if !layerPaths.contains(childRelative) { try removeAny(parent + "/" + child) }
      }
      return
    }
    if name.hasPrefix(".wh.") {
      let target = String(name.dropFirst(4))
      guard !target.isEmpty, target != ".", target != ".." else {
        throw Self.unsafe(entry.path, "bad whiteout")
      }
      try removeAny(parent + "/" + target)
      return
    }

    let path = parent + "/" + name
    layerPaths.insert(relative)
    var st = stat()
    let exists = lstat(path, &st) == 0
    if exists {
      let isDir = (st.st_mode & S_IFMT) == S_IFDIR
      if !(isDir && entry.kind == .directory) { try removeAny(path) }
    }
    let perms = mode_t(entry.mode & 0o7777)
    switch entry.kind {
    case .directory:
      if !exists || (st.st_mode & S_IFMT) != S_IFDIR {
        try sysCall("create directory \(relative)") { mkdir(path, 0o700) }
      }
      try sysCall("chown \(relative)") { lchown(path, entry.uid, entry.gid) }
      try sysCall("chmod \(relative)") { chmod(path, perms) }
      directoryTimes.append((path, entry.mtime))
    case .file, .other:
      let fd = try sysCall("create \(relative)") {
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
      }
      defer { closeQuietly(fd) }
      try reader.readData { try writeAll(fd, $0) }
      // chown before chmod: chown clears set-id bits.
      try sysCall("chown \(relative)") { fchown(fd, entry.uid, entry.gid) }
      try sysCall("chmod \(relative)") { fchmod(fd, perms) }
      setTime(path, entry.mtime)
    case .symlink:
      try sysCall("create symlink \(relative)") { symlink(entry.linkName, path) }
      try sysCall("chown \(relative)") { lchown(path, entry.uid, entry.gid) }
      setTime(path, entry.mtime)
    case .hardLink:
      let targetParts = try Self.components(entry.linkName)
      guard !targetParts.isEmpty else { throw Self.unsafe(entry.path, "hard link to the root") }
      let targetParent = try prepareParent(Array(targetParts.dropLast()), entry.linkName, create: false)
      let target = targetParent + "/" + targetParts.last!
      try sysCall("hard link \(relative)") { link(target, path) }
    case .characterDevice, .blockDevice, .fifo:
      let type: mode_t =
        entry.kind == .fifo ? S_IFIFO : entry.kind == .blockDevice ? S_IFBLK : S_IFCHR
      let major = UInt64(entry.devMajor)
      let minor = UInt64(entry.devMinor)
      // makedev(3) is a macro; this is glibc's encoding.
      let dev = ((major & 0xfffff000) << 32) | ((major & 0xfff) << 8)
        | ((minor & 0xffffff00) << 12) | (minor & 0xff)
      try sysCall("create node \(relative)") { mknod(path, type | perms, dev_t(dev)) }
      try sysCall("chown \(relative)") { lchown(path, entry.uid, entry.gid) }
      try sysCall("chmod \(relative)") { chmod(path, perms) }
      setTime(path, entry.mtime)
    }
  }

  /// Returns the absolute path of the directory `parts` below the root, creating missing
  /// directories (unless `create` is false) and refusing any component that is a symlink
  /// or not a directory.
  private func prepareParent(_ parts: [String], _ member: String, create: Bool = true) throws
    -> String
  {
    var path = root
    for part in parts {
      path += "/" + part
      var st = stat()
      if lstat(path, &st) != 0 {
        guard errno == ENOENT, create else {
          throw Self.unsafe(member, "\(part) does not exist")
        }
        try sysCall("create directory \(path)") { mkdir(path, 0o755) }
        continue
      }
      switch st.st_mode & S_IFMT {
      case S_IFDIR: continue
      case S_IFLNK: throw Self.unsafe(member, "it passes through symlink \(part)")
      default: throw Self.unsafe(member, "\(part) is not a directory")
      }
    }
    return path
  }

  private func removeAny(_ path: String) throws {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      try FileSystem.removeTree(path)
    } else {
      try sysCall("remove \(path)") { unlink(path) }
    }
  }

  private func setTime(_ path: String, _ mtime: Int64) {
    var times = [timespec(tv_sec: time_t(mtime), tv_nsec: 0),
                 timespec(tv_sec: time_t(mtime), tv_nsec: 0)]
    _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
  }
}
