import Foundation
import Glibc
import Testing

@testable import XCEngine

/// Overlayfs whiteouts to OCI whiteouts (TreeArchiver) and back (LayerUnpacker), through a
/// real overlay mount.
@Suite("Whiteouts", .enabled(if: runsAsRoot, "needs root (overlay mounts, trusted xattrs)"))
struct WhiteoutTests {
  func write(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  }

  /// Archives `dir` with overlay translation; returns the members (path, kind, content).
  func archive(_ dir: String, scratch: String) throws -> [(String, TarEntry.Kind, String)] {
    let path = scratch + "/layer.tar"
    let out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let root = open(dir, O_RDONLY | O_DIRECTORY)
    var archiver = TreeArchiver(writer: TarStreamWriter(fd: out))
    archiver.overlayWhiteouts = true
    try archiver.addChildren(of: root, prefix: "")
    _ = try archiver.writer.finish()
    close(out)
    close(root)
    let input = open(path, O_RDONLY)
    defer { close(input) }
    var reader = TarReader(fd: input)
    var members: [(String, TarEntry.Kind, String)] = []
    while let entry = try reader.next() {
      let data = try reader.readDataBytes(limit: 1 << 20)
      members.append((entry.path, entry.kind, String(decoding: data, as: UTF8.self)))
    }
    return members
  }

  @Test func overlayChangesBecomeOCIWhiteoutsAndApplyBack() throws {
    let state = try TempState()
    defer { state.remove() }
    let lower = state.path + "/lower", upper = state.path + "/upper"
    let work = state.path + "/work", merged = state.path + "/merged"
    for d in [lower, lower + "/d", lower + "/keep", upper, work, merged] {
      try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    }
    try write(lower + "/a", "a")
    try write(lower + "/d/x", "x")
    try write(lower + "/keep/k", "k")

    try Mount.overlay(lower: lower, upper: upper, work: work, at: merged)
    do {
      unlink(merged + "/a")  // → char device 0/0 in upper
      try FileManager.default.removeItem(atPath: merged + "/d")
      mkdir(merged + "/d", 0o755)  // → opaque directory in upper
      try write(merged + "/d/y", "y")
      try write(merged + "/new", "n")
      try Mount.unmount(merged)
    } catch {
      try? Mount.unmount(merged)
      throw error
    }

    // What overlayfs left in upper, as the kernel does it.
    var st = stat()
    #expect(lstat(upper + "/a", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
    #expect(TreeArchiver.isOpaque(open(upper + "/d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)))

    let members = try archive(upper, scratch: state.path)
    let names = members.map(\.0)
    #expect(names == [".wh.a", "d/", "d/.wh..wh..opq", "d/y", "new"], "\(names)")
    #expect(members.first { $0.0 == "d/y" }?.2 == "y")
    #expect(members.first { $0.0 == ".wh.a" }?.1 == .file)

    // Applied over a copy of lower, the layer gives what the overlay showed.
    let applied = state.path + "/applied"
    try FileManager.default.copyItem(atPath: lower, toPath: applied)
    let path = state.path + "/layer.tar"
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    var reader = TarReader(fd: fd)
    var unpacker = LayerUnpacker(root: applied)
    try unpacker.apply(&reader)
    unpacker.finish()
    let fm = FileManager.default
    #expect(!fm.fileExists(atPath: applied + "/a"))
    #expect(try fm.contentsOfDirectory(atPath: applied + "/d") == ["y"])
    #expect(fm.fileExists(atPath: applied + "/keep/k") && fm.fileExists(atPath: applied + "/new"))
  }

  @Test func longNamesLinksAndPlaceholdersRoundTrip() throws {
    let state = try TempState()
    defer { state.remove() }
    let tree = state.path + "/tree"
    let long = String(repeating: "n", count: 150)
    let target = String(repeating: "t", count: 120)
    try FileManager.default.createDirectory(atPath: tree + "/proc", withIntermediateDirectories: true)
    try write(tree + "/" + long, "long")
    link(tree + "/" + long, tree + "/hard")
    symlink(target, tree + "/sym")
    try write(tree + "/.xc-init", "")

    let path = state.path + "/t.tar"
    let out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let root = open(tree, O_RDONLY | O_DIRECTORY)
    var archiver = TreeArchiver(writer: TarStreamWriter(fd: out))
    archiver.placeholders = ["proc", ".xc-init"]
    try archiver.addChildren(of: root, prefix: "")
    _ = try archiver.writer.finish()
    close(out)
    close(root)
    let input = open(path, O_RDONLY)
    defer { close(input) }
    var reader = TarReader(fd: input)
    var seen: [String: TarEntry] = [:]
    while let entry = try reader.next() { seen[entry.path] = entry }
    #expect(Set(seen.keys) == [long, "hard", "sym"], "\(seen.keys.sorted())")
    #expect(seen["sym"]?.linkName == target)
    // Either name may come first; the other links to it.
    let links = seen.values.filter { $0.kind == .hardLink }
    #expect(links.count == 1 && [long, "hard"].contains(links.first?.linkName ?? ""))
    // The system tar agrees with the pax headers.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
    p.arguments = ["-tf", path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(listing.contains(long))
  }
}
