import Foundation
import Glibc
import SystemPackage
import Testing
import XCIPC

/// The whole import path of a running xcd (archive reader, digests, unpacking, the SQLite
/// store) fed hostile archives: the committed fuzz seeds (traversal, symlink and hard-link
/// tricks, lying headers, OCI layouts whose blobs do not match their digests) and random
/// mutations of a real image. Each import succeeds or fails with an error answer; nothing is
/// written outside the store, nothing half-imported is listed, every blob matches its digest.
/// libFuzzer covers the readers alone (scripts/fuzz archive); this covers them in place.
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ArchiveImportTests {
  static let seeds = DaemonHarness.repoRoot + "/Tests/Fuzz/corpus/archive"

  @Test func hostileAndMutatedArchivesImportOrFailCleanly() throws {
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client)
      var inputs: [(String, Data)] = []
      for name in try FileManager.default.contentsOfDirectory(atPath: Self.seeds).sorted() {
        inputs.append((name, try Data(contentsOf: URL(fileURLWithPath: Self.seeds + "/" + name))))
      }
      // Mutations of the real image archive: bytes flipped in tar headers and in data, cut
      // short, a block duplicated.
      let image = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.archive()))
      var rng = SystemRandomNumberGenerator()
      for i in 0..<12 {
        var b = image
        switch i % 4 {
        case 0:  // a header byte (the first 512 of some block)
          let block = Int.random(in: 0..<(b.count / 512), using: &rng)
          b[block * 512 + Int.random(in: 0..<512, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
        case 1:  // data anywhere
          for _ in 0..<8 { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        case 2:
          b = b.prefix(Int.random(in: 0..<b.count, using: &rng))
        default:
          let block = Int.random(in: 0..<(b.count / 512), using: &rng) * 512
          b.insert(contentsOf: b[block..<(block + 512)], at: block)
        }
        inputs.append(("mutation-\(i)", b))
      }

      var imported: [String] = ["busybox:latest"]
      var failures = 0
      for (n, (name, bytes)) in inputs.enumerated() {
        let path = daemon.dir + "/input.tar"
        try bytes.write(to: URL(fileURLWithPath: path))
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        let reference = "hostile:\(n)"
        do {
          _ = try client.call(
            FdImportRequest(fd: FDRef(fd), config: JailConfig(secureLevel: 0), imageReference: reference))
          imported.append(reference)
        } catch let e as IPCError {
          #expect(e.code == .daemon && e.daemonError?.errno != 0, "\(name): \(e)")
          failures += 1
        }
        // Still serving, and only whole images listed.
        let listed = try client.call(ListAllImagesRequest()).manifests.map(\.imageReference)
        #expect(Set(listed) == Set(imported), "\(name): \(listed)")
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/tmp")) ?? []
        #expect(tmp.isEmpty, "\(name): staging left: \(tmp)")
      }
      // The traversal seeds aim at ../outside, /tmp and /etc: none of their files exist.
      for escaped in [daemon.stateDir + "/tmp/outside", daemon.stateDir + "/outside", daemon.dir + "/outside",
                      "/tmp/escaped", "/etc/passwd-fuzz"] {
        #expect(!FileManager.default.fileExists(atPath: escaped), "\(escaped) was written")
      }
      #expect(failures > 0 && inputs.count - failures >= 1, "\(failures) of \(inputs.count) failed")
      try FaultTests().expectBlobsIntact(daemon)
      reportFigure("archives: \(inputs.count) hostile or mutated imports through xcd: \(inputs.count - failures) imported, \(failures) refused with an error, nothing written outside the store")
    }
  }
}
