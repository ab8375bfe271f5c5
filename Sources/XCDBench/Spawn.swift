// Raw runc, started with posix_spawn and awaited with waitpid: Foundation's
// `Process.waitUntilExit` polls every 50 ms on Linux, which once made this floor 25-30 ms slow.

import Glibc

/// Starts `argv` (an absolute path and its arguments, no shell) with `stdio` as fds 0, 1, 2
/// and, with `fd3`, that as fd 3. The bench's own descriptors are close-on-exec.
func spawn(_ argv: [String], stdio: CInt, fd3: CInt? = nil) throws -> pid_t {
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  for target in CInt(0)...2 { posix_spawn_file_actions_adddup2(&actions, stdio, target) }
  if let fd3 { posix_spawn_file_actions_adddup2(&actions, fd3, 3) }
  var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
  defer { for a in cargs { free(a) } }
  var pid: pid_t = 0
  let rc = posix_spawn(&pid, argv[0], &actions, nil, &cargs, environ)
  guard rc == 0 else { throw BenchError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
  return pid
}

/// Waits for `pid`; throws unless it exited 0.
func reap(_ pid: pid_t, _ what: String) throws {
  var status: CInt = 0
  while waitpid(pid, &status, 0) < 0 {
    guard errno == EINTR else { throw BenchError("waitpid for \(what): \(String(cString: strerror(errno)))") }
  }
  guard status == 0 else { throw BenchError("\(what) ended with wait status \(status)") }
}
