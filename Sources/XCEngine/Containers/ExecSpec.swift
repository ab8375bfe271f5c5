import SystemPackage

/// A process to run in a created or running container (xc's `exec` request).
public struct ExecSpec: Sendable {
  /// Absolute, or searched in `envs["PATH"]` (default `/bin:/usr/bin:/sbin:/usr/sbin`).
  public var arg0: String
  public var args: [String]
  /// The full environment (not inherited from main).
  public var envs: [String: String]
  public var user: String?
  public var group: String?
  public var work_dir: String?
  public var stdin: FileDescriptor?
  public var stdout: FileDescriptor?
  public var stderr: FileDescriptor?
  /// Run on a new pty instead of the stdio descriptors (then ignored), served on the UNIX
  /// socket `SpawnInfo.terminal_socket`.
  public var use_tty = false
  /// eventfd written with `0x1000000000000000 | wait status` when the process exits.
  public var notify: FileDescriptor?
  /// Log the streams the client passed no descriptor for (or the pty's output) as the
  /// process's records, `<bundle>/exec-<exec id>.output.log` (xcsh's `exec --detach`;
  /// `xcsh.logs` with the exec id). Without it such streams go to /dev/null, as in xc.
  public var log = false

  public init(arg0: String, args: [String] = [], envs: [String: String] = [:]) {
    self.arg0 = arg0
    self.args = args
    self.envs = envs
  }
}
