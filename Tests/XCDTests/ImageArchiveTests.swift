import Foundation
import Glibc
import Testing
import XCIPC

/// `image save` writes an OCI archive that skopeo and umoci read, and `image load` on a fresh
/// daemon brings the same image back, runnable (IPC extension `xcsh.save_image`, `fd_import`).
@Suite(.serialized, .enabled(if: runsAsRoot, "needs root (runc, mounts)"))
struct ImageArchiveTests {
  func xcsh(_ code: String, _ daemon: DaemonHarness) throws -> XcshResult {
    try Xcsh.run(["--socket", daemon.socket, "-c", code])
  }

  @Test func savedArchiveIsReadBySkopeoAndUmociAndLoadsOnAFreshDaemon() throws {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("xcsh-save-\(getpid())").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let archive = work + "/app.tar"
    try withDaemon { daemon in
      let client = try daemon.client()
      try Fixtures.importImage(client, reference: "app:1")
      let saved = try xcsh("image save app:1 \(archive)", daemon)
      #expect(saved.status == 0, "\(saved.stderr)")
      // A missing image: the daemon's error, and no file left behind.
      let missing = try xcsh("image save nope:1 \(work)/nope.tar", daemon)
      #expect(missing.status == 1)
      #expect(missing.stderr.contains("xcsh.save_image"), "\(missing.stderr)")
      #expect(!FileManager.default.fileExists(atPath: work + "/nope.tar"))
    }

    // skopeo reads the archive: one image, the layers the store holds.
    let inspect = try Storage.host(["/usr/bin/skopeo", "inspect", "--raw", "oci-archive:" + archive])
    #expect(inspect.status == 0, "\(inspect.output)")
    let raw = try JSONSerialization.jsonObject(with: Data(inspect.output.utf8)) as? [String: Any]
    #expect((raw?["layers"] as? [Any])?.isEmpty == false, "\(inspect.output)")
    let named = try Storage.host(["/usr/bin/skopeo", "inspect", "oci-archive:" + archive + ":app:1"])
    #expect(named.status == 0, "\(named.output)")

    // umoci reads the layout (the tar unpacked) and lists the tag.
    let layout = work + "/layout"
    try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
    #expect(try Storage.host(["/usr/bin/tar", "-C", layout, "-xf", archive]).status == 0)
    let umoci = try Storage.host(["/usr/bin/umoci", "ls", "--layout", layout])
    #expect(umoci.status == 0 && umoci.output.contains("app:1"), "\(umoci.output)")

    // A fresh daemon loads it under its own name and runs it.
    try withDaemon { daemon in
      let loaded = try xcsh("image load \(archive) | get image_reference | to json", daemon)
      #expect(loaded.status == 0, "\(loaded.stderr)")
      #expect(loaded.stdout == "[\"app:1\"]\n", "\(loaded.stdout)")
      let ran = try xcsh("print (run app:1 -- echo from-the-archive)", daemon)
      #expect(ran.stdout == "from-the-archive\n", "\(ran.stderr)")
    }
  }
}
