import CSupport
import Glibc

/// The one place object commands start host programs (`tar` for `cp`, `cat` for `link`): a
/// fixed program name and an argv array, never a shell; stdio redirected as asked.
enum HostProcess {
  enum Stdio {
    case inherit
    case fd(CInt)
    case devNull
  }

  /// Starts `program` (looked up in PATH) with `args`; returns its pid, or the errno.
  static func spawn(
    _ program: String, _ args: [String], stdin: Stdio = .inherit, stdout: Stdio = .inherit,
    stderr: Stdio = .inherit, ownProcessGroup: Bool = false
  ) -> Result<pid_t, Errno32> {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, io) in [(CInt(0), stdin), (1, stdout), (2, stderr)] {
      switch io {
      case .inherit: break
      case .fd(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
      case .devNull: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
      }
    }
    // Only stdio is the child's: a descriptor another thread opened without CLOEXEC (a
    // concurrent command's pipe) would otherwise live as long as a detached child (link's).
    _ = cs_spawn_file_actions_addclosefrom(&actions, 3)
    var attrs = posix_spawnattr_t()
    posix_spawnattr_init(&attrs)
    defer { posix_spawnattr_destroy(&attrs) }
    if ownProcessGroup {
      posix_spawnattr_setflags(&attrs, Int16(POSIX_SPAWN_SETPGROUP))
      posix_spawnattr_setpgroup(&attrs, 0)
    }
    var cargs: [UnsafeMutablePointer<CChar>?] = ([program] + args).map { strdup($0) } + [nil]
    defer { for a in cargs { free(a) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, program, &actions, &attrs, &cargs, environ)
    return rc == 0 ? .success(pid) : .failure(Errno32(code: rc))
  }

  /// An errno value as an error.
  struct Errno32: Error, CustomStringConvertible {
    var code: CInt
    var description: String { String(cString: strerror(code)) }
  }
}
