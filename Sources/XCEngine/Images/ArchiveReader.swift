import Glibc

/// Reads an image archive — a tar of an OCI image layout (as umoci and skopeo write it) or a
/// `docker save` tar — into staged files, never using member names as paths on disk.
///
/// Every regular member is copied to a numbered staging file while its SHA-256 is computed;
/// symlinks and hard links between members (docker save deduplicates layers with them) are
/// kept as aliases. The caller then picks blobs by digest and verifies them.
struct ArchiveReader {
  struct Member {
    var stagedPath: String
    var digest: String
    var size: Int64
  }

  private(set) var members: [String: Member] = [:]
  private var aliases: [String: String] = [:]
  let stagingDir: String

  /// Caps what an archive may make the engine store: metadata members read into memory.
  static let metadataLimit = 16 << 20

  init(stagingDir: String) {
    self.stagingDir = stagingDir
  }

  /// Normalises a member name or a reference to one: no leading "./" or "/", no "." parts.
  static func normalize(_ name: String) -> String {
    name.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
  }

  mutating func read(fd: CInt) throws {
    var reader = TarReader(fd: fd)
    var counter = 0
    while let entry = try reader.next() {
      let name = Self.normalize(entry.path)
      switch entry.kind {
      case .file:
        counter += 1
        let staged = stagingDir + "/member-\(counter)"
        let out = try sysCall("create \(staged)") {
          open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        }
        var hasher = SHA256()
        do {
          try reader.readData { chunk in
            hasher.update(chunk)
            try writeAll(out, chunk)
          }
        } catch {
          closeQuietly(out)
          throw error
        }
        closeQuietly(out)
        members[name] = Member(stagedPath: staged, digest: "sha256:" + hasher.finalizeHex(), size: entry.size)
      case .symlink:
        // Relative to the link's directory, as docker save writes "../<id>/layer.tar".
        var parts = name.split(separator: "/").dropLast().map(String.init)
        for part in entry.linkName.split(separator: "/") {
          if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(String(part)) }
        }
        aliases[name] = parts.joined(separator: "/")
      case .hardLink:
        aliases[name] = Self.normalize(entry.linkName)
      default:
        continue
      }
    }
  }

  /// The member stored under `name`, following aliases.
  func member(_ name: String) -> Member? {
    var current = Self.normalize(name)
    for _ in 0..<8 {
      if let m = members[current] { return m }
      guard let next = aliases[current] else { return nil }
      current = next
    }
    return nil
  }

  /// The member's bytes, for JSON metadata.
  func bytes(_ name: String) throws -> [UInt8]? {
    guard let m = member(name) else { return nil }
    guard m.size <= Int64(Self.metadataLimit) else {
      throw EngineError.badArchive("\(name) is too large for image metadata")
    }
    return try FileSystem.readBytes(m.stagedPath)
  }

  /// The blob `digest` of an OCI layout (`blobs/sha256/<hex>`), verified against its name.
  func blob(_ digest: String) throws -> Member {
    guard Digest.isValid(digest) else {
      throw EngineError.badArchive("unsupported digest \(digest) (only sha256 is supported)")
    }
    guard let m = member("blobs/sha256/" + Digest.hex(digest)) else {
      throw EngineError.badArchive("the archive has no blob \(digest)")
    }
    guard m.digest == digest else {
      throw EngineError(
        .digestMismatch, "blob \(digest) has content with digest \(m.digest)",
        help: "the archive is corrupt; make it again", errno: .invalidArgument)
    }
    return m
  }
}
