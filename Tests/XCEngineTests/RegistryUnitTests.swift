import Foundation
import Glibc
import Testing
import CSupport

@testable import XCEngine

/// The registry client's pure parts: challenge parsing, reference → URL mapping, the
/// registries file. No network.
@Suite("Registry units")
struct RegistryUnitTests {
  // MARK: - WWW-Authenticate

  @Test func parsesBearerChallenge() {
    let header =
      #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
    let challenges = AuthChallenge.parse(header)
    #expect(challenges.count == 1)
    #expect(challenges.first?.scheme == "bearer")
    #expect(challenges.first?.realm == "https://auth.docker.io/token")
    #expect(challenges.first?.parameters["service"] == "registry.docker.io")
    #expect(challenges.first?.parameters["scope"] == "repository:library/busybox:pull")
  }

  @Test func parsesBasicChallengeCaseInsensitively() {
    let challenges = AuthChallenge.parse(#"BASIC Realm="Registry Realm""#)
    #expect(challenges == [AuthChallenge(scheme: "basic", parameters: ["realm": "Registry Realm"])])
  }

  @Test func parsesSeveralChallengesInOneHeader() {
    let header = #"Basic realm="basic-realm", Bearer realm="http://127.0.0.1:1/token",service=reg , error="invalid_token""#
    let challenges = AuthChallenge.parse(header)
    #expect(challenges.map(\.scheme) == ["basic", "bearer"])
    #expect(challenges[0].parameters == ["realm": "basic-realm"])
    #expect(
      challenges[1].parameters == [
        "realm": "http://127.0.0.1:1/token", "service": "reg", "error": "invalid_token",
      ])
  }

  @Test func parsesQuotedEscapesAndCommasInsideQuotes() {
    let header = #"Bearer realm="a \"quoted\" realm, with comma",scope="repository:x:pull,push""#
    let c = AuthChallenge.parse(header)
    #expect(c.count == 1)
    #expect(c.first?.realm == #"a "quoted" realm, with comma"#)
    #expect(c.first?.parameters["scope"] == "repository:x:pull,push")
  }

  @Test func toleratesGarbageAndEmptyHeaders() {
    #expect(AuthChallenge.parse("").isEmpty)
    #expect(AuthChallenge.parse("   ,  ").isEmpty)
    // An unterminated quote ends the input; what came before is kept.
    let c = AuthChallenge.parse(#"Bearer realm="https://x/token"#)
    #expect(c.first?.scheme == "bearer" && c.first?.realm == "https://x/token")
    // A scheme without parameters.
    #expect(AuthChallenge.parse("Negotiate").map(\.scheme) == ["negotiate"])
  }

  // MARK: - Reference → URL

  func tempDir() throws -> String {
    var template = Array("/tmp/xcengine-registry-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp") }
    return String(cString: p)
  }

  @Test func defaultRegistryIsDockerHubWithLibraryPrefix() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let table = RegistryTable(path: dir + "/registries.json")
    let ref = try ImageReference(parsing: "busybox:1.36")
    let hub = try table.endpoint(host: ref.hostname)
    #expect(hub.name == "index.docker.io")
    let repo = hub.repository(for: ref.name)
    #expect(repo == "library/busybox")
    #expect(hub.manifestURL(repository: repo, reference: "1.36").absoluteString == "https://index.docker.io/v2/library/busybox/manifests/1.36")
    // Names with a slash are kept as they are.
    #expect(hub.repository(for: "freebsdxc/freebsd") == "freebsdxc/freebsd")
    #expect(hub.pingURL.absoluteString == "https://index.docker.io/v2/")
  }

  @Test func hostsMapToHTTPSExceptLoopbackAndInsecure() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let table = RegistryTable(path: dir + "/registries.json")
    let digest = "sha256:" + String(repeating: "a", count: 64)

    let quay = try ImageReference(parsing: "quay.io/org/app@\(digest)")
    let q = try table.endpoint(host: quay.hostname)
    #expect(q.manifestURL(repository: q.repository(for: quay.name), reference: digest).absoluteString
      == "https://quay.io/v2/org/app/manifests/\(digest)")
    #expect(q.blobURL(repository: "org/app", digest: digest).absoluteString == "https://quay.io/v2/org/app/blobs/\(digest)")
    #expect(q.uploadsURL(repository: "org/app").absoluteString == "https://quay.io/v2/org/app/blobs/uploads/")

    let local = try ImageReference(parsing: "127.0.0.1:5000/app:1")
    #expect(try table.endpoint(host: local.hostname).baseURL.absoluteString == "http://127.0.0.1:5000")
    #expect(try table.endpoint(host: "localhost:5000").isInsecure)
    #expect(try table.endpoint(host: "[::1]:5000").isInsecure)
    #expect(try !table.endpoint(host: "registry.example:5000").isInsecure)
    #expect(try table.endpoint(host: "registry.example:5000", insecure: true).baseURL.absoluteString == "http://registry.example:5000")
  }

  @Test func loginStoresEntryReadOnlyByOwnerAndDecidesScheme() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/registries.json"
    let table = RegistryTable(path: path)
    try table.login(server: "registry.example:5000", credentials: .init(username: "alice", password: "s3cret"), insecure: true)
    var st = stat()
    #expect(stat(path, &st) == 0)
    #expect(st.st_mode & 0o777 == 0o600)
    // A new table reads it back: the entry's http scheme wins over the https default.
    let again = RegistryTable(path: path)
    let e = try again.endpoint(host: "registry.example:5000")
    #expect(e.baseURL.absoluteString == "http://registry.example:5000")
    #expect(e.credentials == RegistryCredentials(username: "alice", password: "s3cret"))
    // xc's file shape, the default registry kept.
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
    #expect(json?["default"] as? String == "index.docker.io")
    let registries = json?["registries"] as? [String: Any]
    #expect(registries?.keys.sorted() == ["index.docker.io", "registry.example:5000"])
    // Printing credentials never shows the password.
    #expect(!"\(e.credentials!)".contains("s3cret"))
    #expect(!String(reflecting: e.credentials!).contains("s3cret"))
  }

  @Test func badServerAndBadFileAreClearErrors() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let table = RegistryTable(path: dir + "/registries.json")
    #expect(throws: EngineError.self) {
      try table.login(server: "a b/c", credentials: .init(username: "u", password: "p"), insecure: false)
    }
    let path = dir + "/broken.json"
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
    let broken = RegistryTable(path: path)
    do {
      _ = try broken.endpoint(host: nil)
      Issue.record("a broken registries file was accepted")
    } catch let e as EngineError {
      #expect(e.message.contains(path) && e.message.contains("not valid"), "\(e)")
    }
  }

  @Test func registryErrorBodiesAreSummarised() {
    let body = Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}"#.utf8)
    #expect(RegistryErrorBody.summary(body) == "MANIFEST_UNKNOWN: manifest unknown")
    #expect(RegistryErrorBody.codes(body) == ["MANIFEST_UNKNOWN"])
    #expect(RegistryErrorBody.summary(Array("404 page not found\n".utf8)) == "404 page not found")
    #expect(RegistryErrorBody.summary([]) == nil)
  }
}

/// The SHA-256 block function: the CPU's SHA instructions (when present) agree with the
/// portable code on random input, block by block and many blocks at once.
@Suite("SHA-256 blocks")
struct SHA256BlockTests {
  @Test func acceleratedAgreesWithPortable() {
    var rng = SystemRandomNumberGenerator()
    for blocks in [1, 2, 3, 7, 64, 1000] {
      let data = (0..<(blocks * 64)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      var a: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
      var b = a
      data.withUnsafeBufferPointer { p in
        a.withUnsafeMutableBufferPointer { cs_sha256_blocks($0.baseAddress, p.baseAddress, blocks) }
        b.withUnsafeMutableBufferPointer { cs_sha256_blocks_portable($0.baseAddress, p.baseAddress, blocks) }
      }
      #expect(a == b, "\(blocks) blocks (accelerated: \(cs_sha256_accelerated()))")
    }
  }

  @Test func streamingHashMatchesSha256sum() throws {
    // Odd sizes and chunkings straddle block boundaries.
    let data = (0..<(1 << 20) + 77).map { _ in UInt8.random(in: 0...255) }
    let path = "/tmp/xcengine-sha-\(getpid())"
    try Data(data).write(to: URL(fileURLWithPath: path))
    defer { unlink(path) }
    var h = SHA256()
    var offset = 0
    var step = 1
    while offset < data.count {
      let n = min(step, data.count - offset)
      h.update(Array(data[offset..<(offset + n)]))
      offset += n
      step = step * 3 + 1
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(h.finalizeHex() == String(text.prefix(64)))
  }
}
