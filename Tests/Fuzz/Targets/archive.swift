// libFuzzer target: OCI archive import, the part that reads untrusted bytes.
//
// Each input is an archive (read from a descriptor, as a client's would be): read entry by
// entry with the tar reader (hashing, as layer diff ids are checked), staged member by member
// with the archive reader (blobs looked up and verified by digest, metadata read with its
// cap), and applied as a layer onto a fresh root with the layer unpacker. Decoders may only
// throw. The unpacker must never write outside its root: a sibling directory `outside` (the
// target of the corpus's traversal and symlink tricks) must stay empty. Built and run by
// scripts/fuzz, in a private scratch directory.
import Foundation
import Glibc

// Compiled in one module with the engine sources it exercises (see scripts/fuzz), so the
// engine's internal types are in scope without an import.

let scratch: String = {
  let dir = "/tmp/xc-fuzz-archive-\(getpid())"
  _ = mkdir(dir, 0o700)
  _ = mkdir(dir + "/outside", 0o700)
  atexit { _ = try? FileSystem.removeTree("/tmp/xc-fuzz-archive-\(getpid())") }
  return dir
}()

func inputFile(_ bytes: UnsafeBufferPointer<UInt8>) -> CInt {
  // A file rather than a memfd (which Glibc's module does not export); same reads.
  let fd = open(scratch + "/input", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
  precondition(fd >= 0, "cannot create the input file")
  var off = 0
  while off < bytes.count {
    let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
    precondition(n > 0, "write to the input file failed")
    off += n
  }
  lseek(fd, 0, SEEK_SET)
  return fd
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = UnsafeBufferPointer(start: data, count: size)
  let fd = inputFile(input)
  defer { close(fd) }

  // 1. The tar reader alone, hashing everything.
  var reader = TarReader(fd: fd, hashing: true)
  do {
    while let entry = try reader.next() {
      if entry.kind == .file { _ = try reader.readDataBytes(limit: 1 << 20) }
    }
    _ = try reader.finishHash()
  } catch is EngineError {
  } catch { preconditionFailure("tar reader threw a non-engine error: \(error)") }

  // 2. The archive reader: stage members, look blobs up by digest, read metadata.
  let staging = scratch + "/staging"
  _ = mkdir(staging, 0o700)
  lseek(fd, 0, SEEK_SET)
  var archive = ArchiveReader(stagingDir: staging)
  do {
    try archive.read(fd: fd)
    _ = try? archive.bytes("index.json")
    _ = try? archive.bytes("manifest.json")
    for name in archive.members.keys where name.hasPrefix("blobs/sha256/") {
      _ = try? archive.blob("sha256:" + name.dropFirst("blobs/sha256/".count))
    }
  } catch is EngineError {
  } catch { preconditionFailure("archive reader threw a non-engine error: \(error)") }
  try? FileSystem.removeTree(staging)

  // 3. The layer unpacker onto a fresh root.
  let root = scratch + "/root"
  _ = mkdir(root, 0o755)
  lseek(fd, 0, SEEK_SET)
  var layer = TarReader(fd: fd)
  var unpacker = LayerUnpacker(root: root)
  do {
    try unpacker.apply(&layer)
    unpacker.finish()
  } catch is EngineError {
  } catch { preconditionFailure("layer unpacker threw a non-engine error: \(error)") }
  let escaped = FileSystem.list(scratch + "/outside")
  precondition(escaped.isEmpty, "the layer wrote outside its root: \(escaped)")
  let siblings = Set(FileSystem.list(scratch)).subtracting(["outside", "root", "input"])
  precondition(siblings.isEmpty, "the layer wrote beside its root: \(siblings)")
  try? FileSystem.removeTree(root)
  return 0
}
