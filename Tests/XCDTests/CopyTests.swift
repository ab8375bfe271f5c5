import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC

/// Copying in and out of containers (`xcsh.copy_in`, `xcsh.copy_out`, `copies` at
/// instantiate), and that no path leaves the container's root.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct CopyTests {
  /// A hand-made ustar archive, for members a well-behaved tar would not write.
  static func tar(_ members: [(name: String, type: UInt8, link: String, data: String)]) -> [UInt8] {
    var out: [UInt8] = []
    for m in members {
      var h = [UInt8](repeating: 0, count: 512)
      func put(_ s: String, _ at: Int) { for (i, b) in Array(s.utf8).enumerated() { h[at + i] = b } }
      put(m.name, 0)
      put("0000644", 100)
      put("0000000", 108)
      put("0000000", 116)
      put(String(format: "%011o", m.data.utf8.count), 124)
      put("00000000000", 136)
      h[156] = m.type
      put(m.link, 157)
      put("ustar", 257)
      put("00", 263)
      for i in 148..<156 { h[i] = 0x20 }
      put(String(format: "%06o", h.reduce(0) { $0 + Int($1) }), 148)
      out += h + Array(m.data.utf8)
      out += [UInt8](repeating: 0, count: (512 - m.data.utf8.count % 512) % 512)
    }
    return out + [UInt8](repeating: 0, count: 1024)
  }

  func copyIn(_ client: XCClient, _ name: String, _ path: String, _ bytes: [UInt8], dir: String) throws {
    let file = dir + "/in-\(UInt32.random(in: 0...UInt32.max)).tar"
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    let fd = try FileDescriptor.open(file, .readOnly)
    defer { try? fd.close() }
    _ = try client.call(CopyInRequest(name: name, path: path, fd: FDRef(fd)))
  }

  func copyOut(_ client: XCClient, _ name: String, _ path: String, dir: String) throws -> String {
    let (file, fd) = try Storage.tempFile(dir, "out-\(UInt32.random(in: 0...UInt32.max)).tar")
    defer { try? fd.close() }
    _ = try client.call(CopyOutRequest(name: name, path: path, fd: FDRef(fd)))
    return file
  }

  @Test func copyInAndOutRoundTripBytes() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try Storage.sleeper(client, name: "box")
      let src = daemon.dir + "/src"
      try FileManager.default.createDirectory(atPath: src + "/sub", withIntermediateDirectories: true)
      var random = [UInt8](repeating: 0, count: 300_000)
      for i in random.indices { random[i] = UInt8.random(in: 0...255) }
      try Data(random).write(to: URL(fileURLWithPath: src + "/blob"))
      try "hello\n".write(toFile: src + "/sub/text", atomically: false, encoding: .utf8)
      symlink("sub/text", src + "/link")
      link(src + "/blob", src + "/blob2")
      let archive = daemon.dir + "/src.tar"
      #expect(try Storage.host(["/usr/bin/tar", "-C", daemon.dir, "-cf", archive, "src"]).status == 0)

      try copyIn(client, "box", "/dst/deep", Array(try Data(contentsOf: URL(fileURLWithPath: archive))), dir: daemon.dir)
      let inside = try Storage.exec(client, "box", "cat /dst/deep/src/link; md5sum /dst/deep/src/blob2 | cut -c1-32")
      let md5 = try Storage.host(["/bin/sh", "-c", "md5sum \"$0\" | cut -c1-32", src + "/blob"]).output
      #expect(inside.output == "hello\n" + md5, "\(inside.output)")

      let out = try copyOut(client, "box", "/dst/deep/src", dir: daemon.dir)
      let back = daemon.dir + "/back"
      try FileManager.default.createDirectory(atPath: back, withIntermediateDirectories: true)
      #expect(try Storage.host(["/usr/bin/tar", "-C", back, "-xf", out]).status == 0)
      #expect(try Data(contentsOf: URL(fileURLWithPath: back + "/src/blob")) == Data(random))
      #expect(try Data(contentsOf: URL(fileURLWithPath: back + "/src/blob2")) == Data(random))
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: back + "/src/link") == "sub/text")
      #expect(try String(contentsOfFile: back + "/src/sub/text", encoding: .utf8) == "hello\n")
      let diff = try Storage.host(["/usr/bin/diff", "-r", src, back + "/src"])
      #expect(diff.status == 0, "\(diff.output)")

      // A single file comes out under its own name.
      let one = try copyOut(client, "box", "/dst/deep/src/sub/text", dir: daemon.dir)
      #expect(try Storage.host(["/usr/bin/tar", "-tf", one]).output == "text\n")
      try Storage.kill(client, "box", exited)
    }
  }

  @Test func escapesAreRefusedOrConfined() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let exited = try Storage.sleeper(client, name: "box")
      // A host directory an absolute symlink in the container names.
      let hostDir = daemon.dir + "/host-target"
      try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
      let made = try Storage.exec(
        client, "box",
        "ln -s \(hostDir) /esc && ln -s /etc/passwd /pw && ln -s ../../../../../../../etc /up && mkdir -p \(hostDir)")
      #expect(made.code == 0, "\(made.output)")

      // `..` in a member, a hard link out of the destination: refused, naming the member.
      let dots = try daemonError {
        try copyIn(client, "box", "/tmp", Self.tar([("../../../../escaped", 48, "", "x")]), dir: daemon.dir)
      }
      #expect(dots.errno == 22 && dots.value.text.contains("../../../../escaped"), "\(dots)")
      let hard = try daemonError {
        try copyIn(client, "box", "/tmp", Self.tar([("h", 49, "../../etc/passwd", "")]), dir: daemon.dir)
      }
      #expect(hard.errno == 22 && hard.value.text.contains("../../etc/passwd"), "\(hard)")
      let garbage = try daemonError {
        try copyIn(client, "box", "/tmp", [UInt8](repeating: 0x41, count: 2048), dir: daemon.dir)
      }
      #expect(garbage.errno == 22 && garbage.value.text.contains("malformed tar"), "\(garbage)")
      let device = try daemonError {
        try copyIn(client, "box", "/tmp", Self.tar([("null", 51, "", "")]), dir: daemon.dir)
      }
      #expect(device.errno == 1 && device.value.text.contains("device nodes"), "\(device)")
      let dotsPath = try daemonError { try copyOut(client, "box", "/tmp/../../etc/passwd", dir: daemon.dir) }
      #expect(dotsPath.errno == 22 && dotsPath.value.text.contains("'..'"), "\(dotsPath)")

      // Through the container's absolute symlink, and through a symlink member: the files
      // land inside the container's root, never in the host directory.
      try copyIn(client, "box", "/esc", Self.tar([("f1", 48, "", "one")]), dir: daemon.dir)
      try copyIn(
        client, "box", "/tmp", Self.tar([("l", 50, hostDir, ""), ("l/f2", 48, "", "two")]), dir: daemon.dir)
      #expect(try FileManager.default.contentsOfDirectory(atPath: hostDir).isEmpty)
      let landed = try Storage.exec(client, "box", "cat \(hostDir)/f1 \(hostDir)/f2")
      #expect(landed.output == "onetwo", "\(landed.output)")

      // Reading through symlinks gives the container's files, not the host's.
      let containerPasswd = try Storage.exec(client, "box", "cat /etc/passwd").output
      let viaUp = try copyOut(client, "box", "/up/passwd", dir: daemon.dir)
      let extracted = daemon.dir + "/x"
      try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
      #expect(try Storage.host(["/usr/bin/tar", "-C", extracted, "-xf", viaUp]).status == 0)
      #expect(try String(contentsOfFile: extracted + "/passwd", encoding: .utf8) == containerPasswd)
      #expect(containerPasswd.contains("user:x:1000:1000"))
      let pw = try copyOut(client, "box", "/pw", dir: daemon.dir)
      #expect(try Storage.host(["/usr/bin/tar", "-tvf", pw]).output.contains("pw -> /etc/passwd"))
      try Storage.kill(client, "box", exited)
    }
  }

  @Test func copiesAtInstantiateAndBadCopies() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      let file = daemon.dir + "/copied"
      try "copied in\n".write(toFile: file, atomically: false, encoding: .utf8)
      let fd = try FileDescriptor.open(file, .readOnly)
      defer { try? fd.close() }
      var r = Storage.request("busybox:latest", ["/bin/cat", "/root/new/copied"])
      r.copies = [CopyFile(source: FDRef(fd), destination: "/root/new/copied")]
      #expect(try Storage.run(client, r).output == "copied in\n")

      try fd.seek(offset: 0, from: .start)
      var escape = Storage.request("busybox:latest", ["/bin/true"])
      escape.copies = [CopyFile(source: FDRef(fd), destination: "/root/../../etc/x")]
      let refused = try daemonError { try client.call(escape) }
      #expect(refused.errno == 22, "\(refused)")
      let ghost = try daemonError {
        try client.call(CopyOutRequest(name: "ghost", path: "/", fd: FDRef(fd)))
      }
      #expect(ghost.errno == 2 && ghost.value.text.contains("ghost"), "\(ghost)")
      try Storage.waitGone(client)
    }
  }
}
