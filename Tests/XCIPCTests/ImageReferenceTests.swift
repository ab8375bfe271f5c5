import Foundation
import Testing

@testable import XCIPC

@Suite struct ImageReferenceTests {
  @Test func parsesTheSpecExamples() throws {
    let a = try ImageReference(parsing: "freebsdxc/freebsd:13.2")
    #expect(a.hostname == nil && a.name == "freebsdxc/freebsd" && a.tag == .tag("13.2"))
    let b = try ImageReference(parsing: "library/mariadb:10.9")
    #expect(b.hostname == nil && b.name == "library/mariadb")
    let c = try ImageReference(parsing: "localhost:5000/app:1")
    #expect(c.hostname == "localhost:5000" && c.name == "app" && c.tag == .tag("1"))
    let d = try ImageReference(parsing: "index.docker.io/freebsdxc/freebsd:13.2")
    #expect(d.hostname == "index.docker.io" && d.name == "freebsdxc/freebsd")
    let digest = "sha256:" + String(repeating: "ab", count: 32)
    let e = try ImageReference(parsing: "registry.example.com:443/a/b@\(digest)")
    #expect(e.hostname == "registry.example.com:443" && e.tag == .digest(digest))
    let f = try ImageReference(parsing: "xc-predefine:empty")
    #expect(f.name == "xc-predefine" && f.tag == .tag("empty"))
    for s in [
      "freebsdxc/freebsd:13.2", "localhost:5000/app:1", "a.b/c__d-e--f.g:v_1.0-rc",
      "r.io/x@\(digest)",
    ] {
      #expect(try ImageReference(parsing: s).description == s)
    }
  }

  @Test(arguments: [
    "alpine", "localhost:5000/app", "app:", "app:.x", "app@sha256:abc",
    "app@md5:" + String(repeating: "a", count: 64),
    ":1", "/app:1", "app/:1", "a..b:1", "a/-b:1", "UPPER/ok:1 trailing", "app:1/x", "spaces here:1",
    "app:" + String(repeating: "t", count: 129),
  ])
  func rejectsMalformedReferences(_ s: String) {
    #expect(throws: ImageReference.ParseError.self) { _ = try ImageReference(parsing: s) }
  }

  @Test func codableAsAString() throws {
    try expectRoundTrip(try ImageReference(parsing: "localhost:5000/app:1"))
    #expect(throws: DecodingError.self) {
      _ = try WireDecoder().decode(ImageReference.self, from: Array(#""no-tag""#.utf8))
    }
  }
}
