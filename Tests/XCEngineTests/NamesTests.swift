import Foundation
import Glibc
import Testing

@testable import XCEngine

/// The validators every daemon handler calls: good names pass, bad ones fail naming the field,
/// and random strings never crash them.
@Suite struct NamesTests {
  func message(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as EngineError { return e.message } catch { return "\(error)" }
    return nil
  }

  @Test func containerNames() {
    for good in ["web", "web-1", "a_b", "x", String(repeating: "a", count: 64), "123abc"] {
      #expect(message { try Names.container(good, field: "instantiate: name") } == nil, "\(good)")
    }
    for bad in ["", "1234", "a.b", "a/b", "a b", "-rf", "_x", "é", "a\0b", String(repeating: "a", count: 65), "a\nb"] {
      let m = message { try Names.container(bad, field: "instantiate: name") }
      #expect(m?.hasPrefix("instantiate: name: bad name") == true, "\(bad): \(m ?? "accepted")")
    }
    #expect(message { try Names.containerOrID("0123456789ab", field: "kill_container: name") } == nil)
  }

  @Test func networkVolumeTagHostnameAndImageReference() {
    #expect(message { try Names.network("net0", field: "create_network: name") } == nil)
    #expect(message { try Names.network("averyveryverylongname", field: "create_network: name") }?.contains("at most 15") == true)
    #expect(message { try Names.volume("data-1", field: "create_volume: name") } == nil)
    #expect(message { try Names.volume("..", field: "create_volume: name") }?.contains("create_volume: name") == true)
    #expect(message { try Names.tag("1.2-rc", field: "tag") } == nil)
    #expect(message { try Names.tag("-x", field: "tag") }?.contains("tag:") == true)
    #expect(message { try Names.tag("a:b", field: "tag") } != nil)
    #expect(message { try Names.hostname("web.local", field: "h") } == nil)
    #expect(message { try Names.hostname("-web", field: "h") } != nil)
    #expect(message { try Names.imageReference("busybox:latest", field: "r") } == nil)
    #expect(message { try Names.imageReference("localhost:5000/a/b:1", field: "r") } == nil)
    let noTag = message { try Names.imageReference("busybox", field: "fd_import: image_reference") }
    #expect(noTag?.hasPrefix("fd_import: image_reference: ") == true, "\(noTag ?? "accepted")")
    #expect(message { try Names.imageReference(String(repeating: "a", count: 600) + ":1", field: "r") } != nil)
    for bad in ["../../etc:x", "a/../b:1", "Busybox:1", "a//b:1", "-a:1", "bad host!/a:1", "host:99999/a:1"] {
      #expect(message { try Names.imageReference(bad, field: "r") }?.hasPrefix("r: ") == true, "\(bad)")
    }
    for good in ["my.registry:5000/team/app__x:1", "a-b.c_d:v1", "busybox@sha256:" + String(repeating: "0", count: 64)] {
      #expect(message { try Names.imageReference(good, field: "r") } == nil, "\(good)")
    }
  }

  @Test func hostPathsAreAbsoluteNormalAndOutsideTheState() {
    #expect(message { try ConfinedPath.hostPath("/srv/data", field: "mount_req: source") } == nil)
    for bad in ["srv", "/srv/../etc", "/srv/./x", "/", "/var/lib/xcd/blobs", "/var/lib/xcd"] {
      let m = message {
        try ConfinedPath.hostPath(bad, field: "mount_req: source", forbidden: ["/var/lib/xcd"])
      }
      #expect(m?.hasPrefix("mount_req: source: path") == true, "\(bad): \(m ?? "accepted")")
    }
  }

  @Test func pathsInsideARootFollowSymlinksWithoutEscaping() throws {
    var template = Array("/tmp/xc-confined-XXXXXX".utf8CString)
    let root = String(cString: mkdtemp(&template)!)
    defer { try? FileManager.default.removeItem(atPath: root) }
    mkdir(root + "/etc", 0o755)
    symlink("/etc", root + "/abs")  // absolute: restarts at the root
    symlink("../../../../..", root + "/up")  // climbs: stops at the root
    symlink("loop", root + "/loop")
    let f = "cp: destination"
    #expect(try ConfinedPath.resolve("/etc/passwd", inside: root, field: f) == root + "/etc/passwd")
    #expect(try ConfinedPath.resolve("abs/passwd", inside: root, field: f) == root + "/etc/passwd")
    #expect(try ConfinedPath.resolve("up/etc/shadow", inside: root, field: f) == root + "/etc/shadow")
    #expect(try ConfinedPath.resolve("../../x", inside: root, field: f) == root + "/x")
    #expect(try ConfinedPath.resolve("/", inside: root, field: f) == root)
    #expect(message { _ = try ConfinedPath.resolve("loop/x", inside: root, field: f) }?.contains("too many levels") == true)
  }

  /// Random strings: validators only ever throw engine errors, and anything accepted as a
  /// container name is safe as a path component and a hostname label.
  @Test func randomNamesNeverCrashAndAcceptedOnesAreSafe() {
    var rng = SystemRandomNumberGenerator()
    let alphabet = Array("abcXYZ019-_./ \0\n\t:@é\u{202E}") + ["\u{FFFF}"]
    for _ in 0..<20_000 {
      let name = String((0..<Int.random(in: 0...70, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
      if message({ try Names.container(name, field: "f") }) == nil {
        #expect(!name.contains("/") && !name.contains(".") && !name.isEmpty && name.count <= 64)
        #expect(name.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 })
      }
      _ = message { try Names.imageReference(name, field: "f") }
      _ = message { try Names.hostname(name, field: "f") }
      _ = message { try ConfinedPath.hostPath("/" + name, field: "f") }
    }
  }
}
