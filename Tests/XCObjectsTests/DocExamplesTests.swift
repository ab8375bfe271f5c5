import Foundation
import Testing
import XCSystem
import XCShell

@testable import XCObjects

/// Every example of every object command (the examples docs/commands.md shows) runs: the built
/// `xcsh --dry-run` against a daemon stand-in answering with xc's recorded responses, in a
/// directory holding the files the examples name. An example that uses a field objects do not
/// have, a flag that does not exist, or a command that fails on its own output fails here
/// (issue 18: `kill`'s example filtered on a field `image` containers do not have).
@Suite(.serialized) struct DocExamplesTests {
  /// `$XCSH_BIN`, else the `xcsh` built next to the test bundle.
  static var binary: String {
    if let p = ProcessInfo.processInfo.environment["XCSH_BIN"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("xcsh").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return "xcsh"
  }

  static let examples: [(command: String, code: String)] = {
    let session = DaemonSession(socketPath: "/nonexistent")
    return ObjectCommands.all(session).flatMap { c in c.signature.examples.map { (c.signature.name, $0.code) } }
  }()

  /// Defined before each example, as the docs' surrounding text does (`$c` is a container).
  static let prelude = "let c = (ps | first)\n"

  /// A working directory with the files the examples read; `tag` keeps suites that run at the
  /// same time apart.
  static func workdir(_ tag: String = "examples") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xcsh-\(tag)-\(getpid())").path
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir + "/examples", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: root.path + "/examples/jailfile-build", toPath: dir + "/examples/jailfile-build")
    try FileManager.default.copyItem(atPath: root.path + "/examples/stack", toPath: dir + "/examples/stack")
    try "FROM busybox:latest\nARG VERSION\nRUN echo $VERSION\n".write(toFile: dir + "/Jailfile", atomically: true, encoding: .utf8)
    try """
      secure_level: 0
      ports: {}
      devfs_rules: []
      allow: []
      entry_points: {}
      special_mounts: []
      mounts: {}

      """.write(toFile: dir + "/base.yaml", atomically: true, encoding: .utf8)
    try "hosts:\n  web1:\n    address: ssh://127.0.0.1:1\ngroups:\n  web: [web1]\n".write(toFile: dir + "/hosts.yaml", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
    // A log as xcd writes it: records of both streams (`logs` examples filter by time and stream).
    let now = Int64(Date().timeIntervalSince1970 * 1e9)
    let records = [
      LogRecord(time: now - 60_000_000_000, stream: .stdout, line: Array("a log line".utf8)),
      LogRecord(time: now - 30_000_000_000, stream: .stderr, line: Array("an error".utf8)),
    ]
    _ = FileManager.default.createFile(atPath: dir + "/main.log", contents: Data(LogRecordFile.header + records.flatMap { $0.encoded() }))
    try "events {}\n".write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
    _ = FileManager.default.createFile(atPath: dir + "/rootfs.tar.zst", contents: Data())
    try FileManager.default.copyItem(atPath: dir + "/rootfs.tar.zst", toPath: dir + "/app.tar")
    return dir
  }

  @Test func theExamplesAreAllThere() {
    #expect(Self.examples.count >= 25)
    #expect(Self.examples.contains { $0.command == "kill" })
  }

  @Test("documented example runs", arguments: examples.map { "\($0.command): \($0.code)" })
  func exampleRuns(_ label: String) throws {
    let code = Self.examples.first { "\($0.command): \($0.code)" == label }!.code
    // Examples that take the terminal (`-it`, `attach`) cannot run under a test's pipes, and
    // those that stream until Ctrl-C (`--watch`, `--follow`) do not end; they are still
    // checked statically.
    let interactive = code.contains(" -it ") || code.hasPrefix("attach") || code.contains("--watch") || code.contains("--follow")
    let dir = try Self.workdir()
    let log = dir + "/main.log"
    // The stand-in plays the Linux xcd: the read-only `xcsh.*` extensions answer (empty lists).
    let fake = try FakeDaemon(replies: [
      "xcsh.logs": FakeDaemon.ok(#"{"stdout_log_file":"\#(log)","stderr_log_file":"\#(log)"}"#),
      "xcsh.stats": FakeDaemon.ok("[]"), "xcsh.list_ended": FakeDaemon.ok("[]"), "xcsh.save_image": FakeDaemon.ok("null"),
    ])
    defer { fake.stop() }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let args = interactive ? ["--check", "-c", Self.prelude + code] : ["--dry-run", "--socket", fake.path, "-c", Self.prelude + code]
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.binary)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    // The `host` examples read this inventory, never the user's; its host is on loopback.
    p.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "XCSH_HOSTS": dir + "/hosts.yaml"]) { $1 }
    let err = Pipe()
    p.standardOutput = FileHandle.nullDevice
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "\(label)\n\(stderr)")
  }
}
