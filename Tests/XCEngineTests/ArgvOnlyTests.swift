import Foundation
import Testing

/// No user string ever reaches a shell: the project's sources start programs only through the
/// argv-based spawners (the engine's `Subprocess`, xcsh's `External`, the C shims that exec a
/// given argv, xc-init), and nothing calls `system`, `popen` or a shell with `-c`. A scan of
/// the sources, so a new call site fails here until it is reviewed.
@Suite struct ArgvOnlyTests {
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/Sources"
  }()

  /// The files allowed to start processes, each with argv arrays only.
  static let spawners: Set<String> = [
    "XCEngine/System/Subprocess.swift", "XCShell/Eval/External.swift",
    "CSupport/engine_shims.c", "CSupport/include/engine_shims.h", "xc-init/main.c",
    "CSupport/cs_daemon_spawn.c",  // the embedded xcd: execv of a fixed path and argv
    "XCObjects/Support/HostProcess.swift",  // `tar` for cp, `cat` for link: fixed names, argv arrays
    // `ssh` with an argv array; the remote command is a fixed script whose arguments are a
    // hash, a size and a socket path restricted to `[A-Za-z0-9/._-]` (RemoteHost), and the
    // relay listener's name (hex digits) and idle seconds.
    "XCRemote/SSHTransport.swift",
    // The relay's `fork()` without exec: a child that only waits, whose pidfd is `link`'s
    // process handle on the remote host (docs/remote.md).
    "xcsh-relay/relay.c", "XCRemote/Generated/RelaySource.swift",  // relay.c's text, embedded
    // The container bench's floor: runc with a fixed argv (paths from its script), timed with
    // waitpid because Foundation's Process polls every 50 ms.
    "XCDBench/Spawn.swift",
    // The relay's listener (`relay --serve`, docs/remote.md): forks itself into the
    // background and a child per connection that execv's the relay's own absolute path with
    // a fixed argv (the daemon's socket); relay.c is also embedded as RelaySource.swift.
    "xcsh-relay/relay.c", "XCRemote/Generated/RelaySource.swift",
  ]

  /// Reviewed places where a shell gets a command string, never on the host: a Jailfile's
  /// `RUN` line is, by the format's definition, a command for the container's own /bin/sh,
  /// exec'd inside the container.
  /// `wait --exec STRING` likewise runs the string with the container's /bin/sh, via `exec`.
  /// A Jailfile's shell-form `CMD` (Docker's `/bin/sh -c`) becomes the image's command, run by
  /// the container's /bin/sh when the container starts.
  /// `--health-cmd STRING` (Docker's CMD-SHELL form) is run by the daemon as an exec with the
  /// container's /bin/sh; a Compose file's `healthcheck.test` string or `CMD-SHELL` form
  /// becomes the same `--health-cmd` argv.
  static let containerShells: Set<String> = [
    "XCObjects/Build/JailfileBuilder.swift", "XCObjects/Containers/WaitCommand.swift", "XCObjects/Build/ConfigEdit+JailConfig.swift",
    "XCObjects/Containers/LifecycleFlags.swift", "XCObjects/Stacks/ComposeLifecycleKeys.swift",
  ]

  func sources() throws -> [(String, String)] {
    var out: [(String, String)] = []
    let e = FileManager.default.enumerator(atPath: Self.root)
    while let rel = e?.nextObject() as? String {
      guard rel.hasSuffix(".swift") || rel.hasSuffix(".c") || rel.hasSuffix(".h") else { continue }
      out.append((rel, try String(contentsOfFile: Self.root + "/" + rel, encoding: .utf8)))
    }
    return out
  }

  @Test func processesAreStartedWithArgvOnly() throws {
    let files = try sources()
    #expect(files.count > 50, "scanned \(files.count) files under \(Self.root)")
    // Calls, not declarations: `func fork()` (the evaluator's) is not a fork(2).
    let spawning = try Regex(#"posix_spawnp?\(|\bexecv[pe]*\(|\bexecl[pe]*\(|(^|[=(;{]|return)\s*v?fork\(\)"#)
    let shells = try Regex(#"\bpopen\(|(^|[=(;{]|return)\s*system\(|"/bin/(ba)?sh",\s*"-c"|"sh",\s*"-c""#)
    for (path, text) in files {
      for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if code.contains(spawning) {
          #expect(Self.spawners.contains(path), "\(path):\(n + 1) starts a process outside the argv spawners: \(line)")
        }
        if !Self.containerShells.contains(path) {
          #expect(!code.contains(shells), "\(path):\(n + 1) may pass a string to a shell: \(line)")
        }
      }
    }
  }
}
