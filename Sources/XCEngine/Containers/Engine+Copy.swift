import Glibc
import SystemPackage

extension Engine {
  /// Writes a tar archive of `path` inside live container `name` to `fd`: a file, symlink
  /// (not followed) or directory tree, named by its last component (the root's children
  /// for "/"). Resolution stays inside the container's root (see `ConfinedRoot`).
  public func copyOut(_ name: String, path: String, to fd: FileDescriptor) throws {
    try checkOpen()
    let container = try find(name)
    let parts = try Self.containerPath(path)
    let root = try ConfinedRoot(container.record.root)
    defer { root.close() }
    let parent = try root.directory(Array(parts.dropLast()), create: false, what: "copy out of \(path)")
    defer { closeQuietly(parent) }
    var archiver = TreeArchiver(writer: TarStreamWriter(fd: fd.rawValue))
    if let last = parts.last {
      var st = stat()
      guard fstatat(parent, last, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
        throw EngineError(.badRequest, "copy out: no such file in container \(name): \(path)", errno: .noSuchFileOrDirectory)
      }
      try archiver.add(parent: parent, name: last, path: last)
    } else {
      try archiver.addChildren(of: parent, prefix: "")
    }
    _ = try archiver.writer.finish()
  }

  /// Extracts the tar stream read from `fd` (to its end) into directory `path` inside live
  /// container `name`, creating it if missing. Members with `..` are refused; symlinks in
  /// the container or the archive resolve inside the container's root; hard links must
  /// point inside the archive's destination; device nodes are refused.
  ///
  /// With `rename`, a `path` that is not an existing directory names the copy itself (Docker's
  /// `cp` rule): the archive's one top-level member is written as `path`, whose parent must exist.
  public func copyIn(_ name: String, path: String, from fd: FileDescriptor, rename: Bool = false) throws {
    try checkOpen()
    let container = try find(name)
    var base = try Self.containerPath(path)
    let root = try ConfinedRoot(container.record.root)
    defer { root.close() }
    var newName: String?
    if rename, let last = base.last, !root.isDirectory(base) {
      base.removeLast()
      closeQuietly(try root.directory(base, create: false, what: "copy to \(path): its parent"))
      newName = last
    } else {
      closeQuietly(try root.directory(base, create: true, what: "copy into \(path)"))
    }
    var reader = TarReader(fd: fd.rawValue)
    var top: String?
    while var entry = try reader.next() {
      if let newName {
        // Every member must be under the one top-level name, which becomes `newName`.
        var parts = try LayerUnpacker.components(entry.path)
        guard let first = parts.first else { continue }
        if top == nil { top = first }
        guard first == top else {
          throw EngineError(
            .badRequest, "copy to \(path): the archive holds more than one top-level member (\(top ?? "") and \(first))",
            errno: .invalidArgument)
        }
        parts[0] = newName
        entry.path = parts.joined(separator: "/")
        if entry.kind == .hardLink {  // a hard link names another member: renamed alike
          var target = try LayerUnpacker.components(entry.linkName)
          if target.first == top { target[0] = newName }
          entry.linkName = target.joined(separator: "/")
        }
      }
      try extract(entry, &reader, root: root, base: base)
    }
  }

  /// Components of an absolute path inside a container; `..` is refused.
  static func containerPath(_ path: String) throws -> [String] {
    guard path.hasPrefix("/") else {
      throw EngineError(.badRequest, "\(path) is not an absolute path in the container", errno: .invalidArgument)
    }
    do { return try LayerUnpacker.components(path) } catch {
      throw EngineError(.badRequest, "\(path): '..' is not allowed in a container path", errno: .invalidArgument)
    }
  }

  private func extract(_ entry: TarEntry, _ reader: inout TarReader, root: ConfinedRoot, base: [String]) throws {
    let parts = try LayerUnpacker.components(entry.path)
    guard let name = parts.last else { return }  // the destination itself
    let member = "copy in: member \(entry.path)"
    let parent = try root.directory(base + parts.dropLast(), create: true, what: member)
    defer { closeQuietly(parent) }
    func fail(_ what: String) -> EngineError {
      EngineError.system("\(member): \(what)")
    }
    var st = stat()
    if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
      let isDir = (st.st_mode & S_IFMT) == S_IFDIR
      if isDir && entry.kind != .directory {
        throw EngineError(.badRequest, "\(member): a directory is in the way", errno: .isDirectory)
      }
      if !isDir && unlinkat(parent, name, 0) != 0 { throw fail("cannot replace the existing file") }
    }
    let perms = mode_t(entry.mode & 0o7777)
    switch entry.kind {
    case .directory:
      if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST { throw fail("mkdir") }
    case .file, .other:
      let out = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
      guard out >= 0 else { throw fail("create") }
      defer { closeQuietly(out) }
      try reader.readData { try writeAll(out, $0) }
    case .symlink:
      if symlinkat(entry.linkName, parent, name) != 0 { throw fail("symlink") }
    case .hardLink:
      let target = try LayerUnpacker.components(entry.linkName)
      guard !target.isEmpty else { throw EngineError(.badRequest, "\(member): hard link to the destination itself", errno: .invalidArgument) }
      let source = try root.open(
        (base + target).joined(separator: "/"), ConfinedRoot.O_PATH | O_NOFOLLOW, what: "\(member): link target \(entry.linkName)")
      defer { closeQuietly(source) }
      if linkat(source, "", parent, name, 0x1000 /* AT_EMPTY_PATH */) != 0 { throw fail("hard link") }
      return
    case .fifo:
      if mkfifoat(parent, name, perms) != 0 { throw fail("mkfifo") }
    case .characterDevice, .blockDevice:
      throw EngineError(.badRequest, "\(member): device nodes are not copied into containers", errno: .notPermitted)
    }
    if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("chown") }
    // NOFOLLOW: should the container swap the new entry for a symlink meanwhile, the
    // call fails rather than changing the link's target (which resolves on the host).
    if entry.kind != .symlink && fchmodat(parent, name, perms, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("chmod") }
    var times = [timespec(tv_sec: time_t(entry.mtime), tv_nsec: 0), timespec(tv_sec: time_t(entry.mtime), tv_nsec: 0)]
    _ = utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
  }
}
