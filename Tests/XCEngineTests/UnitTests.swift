import Foundation
import Glibc
import Testing
import XCSystem

@testable import XCEngine

/// Tests that need neither root nor runc.
@Suite("Units")
struct UnitTests {
  func tempDir() throws -> String {
    var template = Array("/tmp/xcengine-unit-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp") }
    return String(cString: p)
  }

  func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

  @Test func sha256KnownVectors() {
    #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    var h = SHA256()
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    for _ in 0..<1000 { h.update(chunk) }
    #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    // Odd chunk sizes straddle block boundaries.
    var odd = SHA256()
    let data = Array("The quick brown fox jumps over the lazy dog".utf8)
    odd.update(Array(data[0..<7]))
    odd.update(Array(data[7...]))
    #expect(odd.finalizeHex() == "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
  }

  @Test func imageReferences() throws {
    let a = try ImageReference(parsing: "busybox:latest")
    #expect(a.hostname == nil && a.name == "busybox" && a.tag == "latest")
    let b = try ImageReference(parsing: "localhost:5000/app/web:1.2")
    #expect(b.hostname == "localhost:5000" && b.name == "app/web" && b.tag == "1.2")
    #expect(b.description == "localhost:5000/app/web:1.2")
    let c = try ImageReference(parsing: "library/mariadb:10.9")
    #expect(c.hostname == nil && c.name == "library/mariadb")
    let digest = "sha256:" + String(repeating: "ab", count: 32)
    let d = try ImageReference(parsing: "quay.io/x@\(digest)")
    #expect(d.hostname == "quay.io" && d.digest == digest && d.tag == nil)
    for bad in ["busybox", "Busybox:1", "a:", ":1", "a@sha256:12", "a b:1"] {
      let err = #expect(throws: EngineError.self, "\(bad)") { try ImageReference(parsing: bad) }
      #expect(err?.code == .badReference)
    }
  }

  @Test func containerNames() throws {
    try ContainerNames.validate("web-1")
    for bad in ["1", "-5", "a.b", "", "a/b", "a b", String(repeating: "x", count: 65)] {
      #expect(throws: EngineError.self, "\(bad)") { try ContainerNames.validate(bad) }
    }
    let id = ContainerNames.newID()
    #expect(id.count == 12 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
  }

  @Test func waitStatusEncoding() {
    #expect(WaitStatus(rawValue: 3 << 8).exitCode == 3)
    #expect(WaitStatus(rawValue: 9).terminationSignal == 9 && WaitStatus(rawValue: 9).exitCode == nil)
    #expect(ProcessNotification.encodeExit(WaitStatus(rawValue: 256)) == 0x1000_0000_0000_0100)
    #expect(ProcessNotification.decodeExit(ProcessNotification.encodeExit(WaitStatus(rawValue: 9)))?.shellExitCode == 1)
  }

  @Test func ociImageConversion() throws {
    let json = #"""
      {"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/app","-v"],"Cmd":["serve"],
       "Env":["PATH=/bin","A=b=c"],"WorkingDir":"/srv","User":"1000:50"},
       "rootfs":{"type":"layers","diff_ids":[]},"history":[]}
      """#
    let image = try JSONDecoder().decode(JailImage.self, from: Data(json.utf8))
    let config = image.jailConfig
    #expect(config.default_entry_point == "oci_entry_point")
    let ep = try #require(config.entry_points["oci_entry_point"])
    #expect(ep.exec == "/bin/app" && ep.args == ["-v"] && ep.default_args == ["serve"])
    #expect(ep.environ == ["PATH": "/bin", "A": "b=c"])
    #expect(ep.work_dir == "/srv" && ep.user == "1000" && ep.group == "50")
    #expect(config.linux)
  }

  @Test func unpackFilesLinksAndLongNames() throws {
    let root = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: root) }
    var t = TarWriter()
    t.add("./etc/", .directory, mode: 0o755)
    t.add("./etc/hello", content: "hi\n", mode: 0o640)
    t.add("./etc/link", .symlink, link: "hello")
    t.add("./etc/hard", .hardLink, link: "./etc/hello")
    let long = "deep/" + String(repeating: "x", count: 120) + "/file"
    t.addPaxPath(long)
    t.add("ignored-short-name", content: "pax\n")
    let gnu = "gnu/" + String(repeating: "y", count: 150)
    t.add("././@LongLink", .gnuLongName, content: gnu + "\0")
    t.add("truncated", content: "gnu\n")
    try unpackLayers([t.finish()], into: root)
    #expect(text(root + "/" + gnu) == "gnu\n")
    #expect(text(root + "/etc/hello") == "hi\n")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/link") == "hello")
    #expect(text(root + "/etc/hard") == "hi\n")
    #expect(text(root + "/" + long) == "pax\n")
    var st = stat()
    stat(root + "/etc/hello", &st)
    #expect(st.st_mode & 0o7777 == 0o640)
    #expect(st.st_nlink == 2)
  }

  @Test func whiteoutsAndOpaqueDirectories() throws {
    let root = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: root) }
    var l1 = TarWriter()
    l1.add("a/", .directory, mode: 0o755)
    l1.add("a/b", content: "b")
    l1.add("a/c", content: "c")
    l1.add("d", content: "d")
    l1.add("o/", .directory, mode: 0o755)
    l1.add("o/old", content: "old")
    var l2 = TarWriter()
    l2.add("a/.wh.b")
    l2.add(".wh.d")
    l2.add("o/new", content: "new")  // before the marker, still kept
    l2.add("o/.wh..wh..opq")
    try unpackLayers([l1.finish(), l2.finish()], into: root)
    #expect(!FileManager.default.fileExists(atPath: root + "/a/b"))
    #expect(text(root + "/a/c") == "c")
    #expect(!FileManager.default.fileExists(atPath: root + "/d"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/o") == ["new"])
    #expect(!FileManager.default.fileExists(atPath: root + "/a/.wh.b"))
  }

  @Test func hostileLayersAreRefused() throws {
    let root = try tempDir()
    let outside = try tempDir()
    defer {
      try? FileManager.default.removeItem(atPath: root)
      try? FileManager.default.removeItem(atPath: outside)
    }
    func refused(_ build: (inout TarWriter) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
      var t = TarWriter()
      build(&t)
      let err = #expect(throws: EngineError.self, sourceLocation: sourceLocation) {
        try unpackLayers([t.finish()], into: root)
      }
      #expect(err?.code == .unsafePath, sourceLocation: sourceLocation)
    }
    refused { $0.add("../evil", content: "x") }
    refused { $0.add("a/../../evil", content: "x") }
    refused {
      $0.add("escape", .symlink, link: outside)
      $0.add("escape/pwned", content: "x")
    }
    refused {
      $0.add("rel", .symlink, link: "../../../../" + outside)
      $0.add("rel/pwned", content: "x")
    }
    refused { $0.add("hl", .hardLink, link: "../etc/passwd") }
    refused { $0.addPaxPath("../pax-evil"); $0.add("fine", content: "x") }
    // An earlier layer's symlink cannot be used by a later layer either.
    var l1 = TarWriter()
    l1.add("lib", .symlink, link: outside)
    var l2 = TarWriter()
    l2.add("lib/pwned", content: "x")
    #expect(throws: EngineError.self) { try unpackLayers([l1.finish(), l2.finish()], into: root) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    // Absolute names are taken relative to the root.
    var abs = TarWriter()
    abs.add("/etc/abs", content: "inside")
    try unpackLayers([abs.finish()], into: root)
    #expect(text(root + "/etc/abs") == "inside")
  }

  @Test func corruptTarHeadersAreRejected() throws {
    var t = TarWriter()
    t.add("file", content: "data")
    var bytes = t.finish()
    bytes[10] ^= 0x01  // inside the name: the checksum no longer matches
    let root = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let err = #expect(throws: EngineError.self) { try unpackLayers([bytes], into: root) }
    #expect(err?.code == .badArchive)
    // A member cut short.
    var short = TarWriter()
    short.add("file", content: String(repeating: "z", count: 2000))
    let cut = Array(short.bytes.prefix(1024))
    #expect(throws: EngineError.self) { try unpackLayers([cut], into: root) }
    // pax records whose length ends before their own space (the fuzzer's `003 path=…`, which
    // trapped on a reversed range) or not at their newline: malformed, not a crash.
    for record in ["003 path=p/q\n", "3 path=p\n", "12 path=p/qX"] {
      var pax = TarWriter()
      pax.add("PaxHeader", .pax, content: record)
      pax.add("file", content: "x")
      let e = #expect(throws: EngineError.self, "\(record)") { try unpackLayers([pax.finish()], into: root) }
      #expect(e?.code == .badArchive, "\(record)")
    }
  }

  @Test func interpolation() {
    let env = ["N": "3", "WHO": "world", "EMPTY": ""]
    #expect(Interpolation.apply("hi $WHO", env) == "hi world")
    #expect(Interpolation.apply("${N}x ${MISSING:-dflt} ${WHO:-x}", env) == "3x dflt world")
    #expect(Interpolation.apply("${MISSING:-$N}", env) == "3")
    #expect(Interpolation.apply("echo $i $(hostname) $ ${bad name} $5", env) == "echo $i $(hostname) $ ${bad name} $5")
    #expect(Interpolation.apply("[$EMPTY]", env) == "[]")
    #expect(Interpolation.apply("${unclosed", env) == "${unclosed")
  }

  @Test func chainID() {
    let a = "sha256:" + String(repeating: "a", count: 64)
    let b = "sha256:" + String(repeating: "b", count: 64)
    #expect(Digest.chainID([a]) == a)
    #expect(Digest.chainID([a, b]) == "sha256:" + SHA256.hex(Array("\(a) \(b)".utf8)))
    #expect(Digest.chainID([]) == nil)
  }
}
