import Foundation
import Glibc
import CSupport
import XCSystem
import SystemPackage

/// Starts external programs by argv (never through a shell) with exactly the descriptors
/// given as their stdio, and waits for them. The corresponding C function is `posix_spawn`.
///
/// Every other descriptor is closed in the child, and the child starts with an empty signal
/// mask and default signal dispositions, whatever the calling thread had.
enum Subprocess {
  /// What a finished program left behind.
  struct Output {
    /// The raw wait(2) status.
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var exitedNormally: Bool { WaitStatus(rawValue: status).exitCode == 0 }
    var stderrText: String {
      String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }

  /// Spawns `argv` with `stdin`, `stdout` and `stderr` as its fds 0, 1, 2, and `extra`
  /// as its fds 3, 4, ….
  static func spawn(
    _ argv: [String], stdin: CInt, stdout: CInt, stderr: CInt, extra: [CInt] = [],
    environment: [String] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
  ) throws -> pid_t {
    precondition(!argv.isEmpty)
    // Move the sources high first so dup2 onto 0, 1, 2, … cannot clobber one another.
    let sources = try ([stdin, stdout, stderr] + extra).map { try dupCloexec($0, minimum: 10 + CInt(extra.count)) }
    defer { sources.forEach(closeQuietly) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, source) in sources.enumerated() {
      posix_spawn_file_actions_adddup2(&actions, source, CInt(target))
    }
    cs_spawn_file_actions_addclosefrom(&actions, CInt(sources.count))

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup($0) } + [nil]
    defer {
      cArgs.forEach { free($0) }
      cEnv.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, cEnv)
    if rc != 0 { throw EngineError.system("start \(argv[0])", Errno(rawValue: rc)) }
    return pid
  }

  /// Waits for child `pid` to end and returns its raw wait(2) status. Blocks the thread.
  static func wait(_ pid: pid_t) throws -> Int32 {
    var status: Int32 = 0
    try sysCall("wait for process \(pid)") { waitpid(pid, &status, 0) }
    return status
  }

  /// Runs `argv` to completion, feeding it nothing on stdin and collecting its output.
  /// With `stdout`, the program writes there instead of into the result; with `stdin`, it
  /// reads that descriptor.
  static func run(_ argv: [String], stdout: CInt? = nil, stdin: CInt? = nil) throws -> Output {
    let null = try sysCall("open /dev/null") { open("/dev/null", O_RDWR | O_CLOEXEC) }
    defer { closeQuietly(null) }
    var outPipe: [CInt] = [-1, -1]
    var errPipe: [CInt] = [-1, -1]
    try sysCall("pipe") { cs_pipe_cloexec(&outPipe) }
    defer { outPipe.forEach(closeQuietly) }
    try sysCall("pipe") { cs_pipe_cloexec(&errPipe) }
    defer { errPipe.forEach(closeQuietly) }

    let pid = try spawn(argv, stdin: stdin ?? null, stdout: stdout ?? outPipe[1], stderr: errPipe[1])
    closeQuietly(outPipe[1])
    outPipe[1] = -1
    closeQuietly(errPipe[1])
    errPipe[1] = -1
    let (out, err) = drain(outPipe[0], errPipe[0])
    let status = try wait(pid)
    return Output(status: status, stdout: out, stderr: err)
  }

  /// Reads two pipes to end of file at once, so neither writer blocks on a full pipe.
  private static func drain(_ a: CInt, _ b: CInt) -> ([UInt8], [UInt8]) {
    var results: [[UInt8]] = [[], []]
    var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0),
               pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
    var open = 2
    var buffer = [UInt8](repeating: 0, count: 65536)
    while open > 0 {
      let rc = poll(&fds, 2, -1)
      if rc < 0 {
        if errno == EINTR { continue }
        break
      }
      for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
        // A read error ends that stream as end of file does (EINTR is retried inside).
        let n = (try? buffer.withUnsafeMutableBytes { try readSome(fds[i].fd, into: $0) }) ?? 0
        if n > 0 {
          results[i].append(contentsOf: buffer[0..<n])
        } else {
          fds[i].fd = -1
          open -= 1
        }
      }
    }
    return (results[0], results[1])
  }
}
