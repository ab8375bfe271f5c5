import Foundation
import Testing
import XCIPC

/// `xcsh --version`, `xcd --version` and the daemon's `info`: release and git commit.
struct VersionTests {
  /// Runs `binary arguments` and returns its stdout.
  func output(_ binary: String, _ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self)
  }

  /// The commit of the tree the tests run in, as the build recorded it.
  var treeCommit: String {
    get throws {
      let head = try output("/usr/bin/git", ["-C", DaemonHarness.repoRoot, "rev-parse", "HEAD"])
      return head.trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }

  @Test func bothExecutablesNameReleaseAndCommit() throws {
    let release = try output(XCShellObjectTests.xcsh, ["-c", "print (version)"]).trimmingCharacters(in: .newlines)
    let commit = try treeCommit
    for (name, binary) in [("xcsh", XCShellObjectTests.xcsh), ("xcd", DaemonHarness.binary)] {
      let line = try output(binary, ["--version"])
      // The tests may run with uncommitted changes: the build then says "-dirty".
      #expect(
        line == "\(name) \(release) (commit \(commit))\n" || line == "\(name) \(release) (commit \(commit)-dirty)\n",
        "\(line)")
    }
  }

  @Test(.enabled(if: runsAsRoot, "needs root (runc, mounts)"))
  func infoSaysWhichEngineAnswers() throws {
    try withDaemon { daemon in
      let info = try daemon.client().call(InfoRequest())
      let engine = try #require(info.engine)
      let line = try output(DaemonHarness.binary, ["--version"])
      #expect(line == "xcd \(engine.version) (commit \(engine.commit))\n", "\(line)")
      #expect(engine.name == "xcd" && engine.os.hasPrefix("Linux "), "\(engine)")

      // xc's own daemon sends no `engine`: its answer still decodes.
      var bare = info
      bare.engine = nil
      let json = try JSONEncoder().encode(bare.config)
      let text = #"{"config":"# + String(decoding: json, as: UTF8.self) + "}"
      let decoded = try JSONDecoder().decode(InfoResponse.self, from: Data(text.utf8))
      #expect(decoded == bare)
    }
  }
}
