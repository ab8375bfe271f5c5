import Foundation
import SystemPackage
import XCIPC
import XCSystem

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How xcsh runs the system `ssh`: ssh_config, agents, ProxyJump, certificates and known_hosts
/// all work as the operator set them up; xcsh adds only what it needs.
public struct SSHOptions: Sendable {
  /// The ssh binary (`$XCSH_SSH`, else `ssh` on PATH).
  public var binary = "ssh"
  /// An ssh_config to use instead of the user's (`-F`, from `$XCSH_SSH_CONFIG`).
  public var configFile: String?
  /// More `-o` options, as `Key=Value`.
  public var extraOptions: [String] = []
  /// How long the control master outlives its last session (`ControlPersist`).
  public var controlPersist = "60"
  /// Where the control sockets live: a 0700 directory of this user.
  public var runtimeDirectory: String
  /// How many seconds the relay's listener on a host outlives its last session (like
  /// `ControlPersist`): later processes reach it through the control master instead of
  /// starting a relay of their own. 0 (the default here; `$XCSH_RELAY_PERSIST`, else 600, from
  /// the environment): no listener, one relay per session.
  public var relayPersist = 0
  /// What is wrong with a setting read from the environment (`$XCSH_RELAY_PERSIST` that is not
  /// whole seconds): every connection fails with it, before ssh runs.
  public var invalidSetting: String?

  public init(runtimeDirectory: String) { self.runtimeDirectory = runtimeDirectory }

  /// Options from the environment: `$XCSH_SSH`, `$XCSH_SSH_CONFIG`, `$XCSH_SSH_CONTROL_PERSIST`,
  /// `$XCSH_RELAY_PERSIST` (seconds; 0 turns the listener off; default 600),
  /// `$XCSH_RUNTIME_DIR` (else `$XDG_RUNTIME_DIR/xcsh`, else `/tmp/xcsh-<uid>`).
  public static func fromEnvironment(_ env: [String: String]) -> SSHOptions {
    let base: String
    if let d = env["XCSH_RUNTIME_DIR"], !d.isEmpty {
      base = d
    } else if let r = env["XDG_RUNTIME_DIR"], !r.isEmpty {
      base = r + "/xcsh"
    } else {
      base = "/tmp/xcsh-\(getuid())"
    }
    var o = SSHOptions(runtimeDirectory: base + "/ssh")
    if let b = env["XCSH_SSH"], !b.isEmpty { o.binary = b }
    if let c = env["XCSH_SSH_CONFIG"], !c.isEmpty { o.configFile = c }
    if let p = env["XCSH_SSH_CONTROL_PERSIST"], !p.isEmpty { o.controlPersist = p }
    o.relayPersist = 600
    if let p = env["XCSH_RELAY_PERSIST"], !p.isEmpty {
      if let seconds = Int(p), seconds >= 0 {
        o.relayPersist = seconds
      } else {
        o.invalidSetting = "XCSH_RELAY_PERSIST=\"\(p)\" is not a number of seconds (whole seconds; 0 turns the relay listener off)"
      }
    }
    return o
  }

  /// The ssh arguments (after the binary) that run `command` on `host`.
  public func arguments(_ host: RemoteHost, command: String) -> [String] {
    arguments(host, ["-T"]) + [command]
  }

  /// The ssh arguments for `host` with `extra` (`-T`, or a control request `-O …`) before the
  /// host; a command may follow.
  func arguments(_ host: RemoteHost, _ extra: [String]) -> [String] {
    var a: [String] = []
    if let configFile { a += ["-F", configFile] }
    // ssh keeps the first value of an option: the host's own (inventory `options`) come
    // before xcsh's defaults so they override them (the inventory refuses the ones xcsh owns).
    for o in host.sshOptions { a += ["-o", o] }
    a += extra + ["-o", "BatchMode=yes"]
    a += ["-o", "ControlMaster=auto", "-o", "ControlPath=\(runtimeDirectory)/cm-%C", "-o", "ControlPersist=\(controlPersist)"]
    // The master binds the relay listener's forward (RelayListener) where the forward of an
    // earlier master may have left its socket.
    a += ["-o", "StreamLocalBindUnlink=yes"]
    // Never a hang: a host that does not answer fails after 30 s, a session whose peer went
    // silent after 3 × 15 s.
    a += ["-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"]
    for o in extraOptions { a += ["-o", o] }
    if let port = host.port { a += ["-p", String(port)] }
    if let user = host.user { a += ["-l", user] }
    a += ["--", host.host]
    return a
  }
}

/// Opens relay sessions: through the host's relay listener when the control master forwards
/// to one (`RelayListener`), else runs `ssh -T HOST` with a small sh script that starts the
/// cached relay (and the listener), or first receives its source over the same connection and
/// compiles it (docs/remote.md, "First contact").
public enum SSHTransport {
  /// The script's status lines on stdout, before the mux starts.
  static let marker = "xcsh-relay: "

  /// The remote command: `/bin/sh` explicitly (the login shell may be csh), the script in
  /// single quotes (it has none itself, nor `!`), and its arguments: the source's hash and
  /// size, the daemon's socket (restricted to characters no shell treats specially), the
  /// privilege command (`sudo`, `doas` or empty: it runs the relay with `-n`, so it fails
  /// instead of prompting), a pre-built relay's path (empty: the cached build), and the relay
  /// listener's name and idle seconds (empty: none; `RelayListener`). Starting the listener
  /// says `listen PATH` (started) or `listening PATH` (one ran already); a relay that cannot
  /// listen (an old pre-built one, a path too long) says nothing and the session goes on.
  static func command(
    socket: String, source: [UInt8], hash: String, privilege: RelayPrivilege = .none, relayPath: String? = nil,
    listener: String = "", persist: Int = 0
  ) -> String {
    let script = [
      #"d="${XDG_CACHE_HOME:-$HOME/.cache}/xcsh"; r="$d/relay-$1"; s="$3"; x="$4"; n="$6"; i="$7""#,
      #"serve() { if [ -n "$x" ]; then "$x" -n "$r" --serve "$l" "$(id -u)" "$i" "$s"; else "$r" --serve "$l" "$(id -u)" "$i" "$s"; fi; }"#,
      #"go() { if [ -n "$n" ] && mkdir -p "$d"; then l="$d/run/$n"; serve </dev/null >/dev/null 2>&1; case $? in 0) echo "xcsh-relay: listen $l";; 75) echo "xcsh-relay: listening $l";; esac; fi"#,
      #"echo "xcsh-relay: ready"; if [ -n "$x" ]; then exec "$x" -n "$r" "$s"; fi; exec "$r" "$s"; }"#,
      #"if [ -n "$5" ]; then r="$5"; if [ -x "$r" ]; then go; fi; echo "xcsh-relay: no-relay"; exit 92; fi"#,
      #"if [ -x "$r" ]; then go; fi"#,
      #"echo "xcsh-relay: source""#,
      #"mkdir -p "$d" || exit 90; t="$d/build.$$"; rm -rf "$t"; mkdir -m 700 "$t" || exit 90"#,
      #"if head -c "$2" > "$t/relay.c" && ${CC:-cc} -O2 -o "$t/relay" "$t/relay.c" > "$t/log" 2>&1; then mv -f "$t/relay" "$r"; rm -rf "$t"; go; fi"#,
      #"echo "xcsh-relay: build-failed"; cat "$t/log"; rm -rf "$t"; exit 91"#,
    ].joined(separator: "; ")
    return "exec /bin/sh -c '\(script)' xcsh-relay \(hash) \(source.count) '\(socket)' '\(privilege.rawValue)' '\(relayPath ?? "")' "
      + "'\(listener)' \(persist)"
  }

  /// A relay session: over a running ssh, or through the control master's forward to the
  /// host's relay listener (no ssh process of its own: `sshPID` nil).
  public final class Connection: @unchecked Sendable {
    public let session: MuxSession
    public let sshPID: pid_t?
    /// Whether the relay was compiled during this contact.
    public let built: Bool
    private let end: SSHEnd?

    init(session: MuxSession, sshPID: pid_t?, built: Bool, end: SSHEnd?) {
      self.session = session
      self.sshPID = sshPID
      self.built = built
      self.end = end
    }

    /// Ends the session and reaps ssh (the relay exits at EOF).
    public func close() {
      session.close()
      _ = end?.wait()
    }
  }

  /// Connects to `host`: through the relay listener's forward when there is one, else ssh,
  /// the relay (built if needed), the handshake. Errors name the host and the stage.
  public static func connect(
    _ host: RemoteHost, options: SSHOptions, source: String = RelaySource.text, hash: String = RelaySource.hash,
    announce: (@Sendable (String) -> Void)? = nil
  ) throws(IPCError) -> Connection {
    if let invalid = options.invalidSetting { throw IPCError(.system, invalid) }
    try makeRuntimeDirectory(options.runtimeDirectory)
    guard options.relayPersist > 0 else {
      return try connectOverSSH(host, options: options, source: source, hash: hash, listener: nil, announce: announce).0
    }
    let listener = RelayListener(host, options: options, hash: hash)
    var refused = false
    if let c = try listener.connect(host, announce: announce, refused: &refused) { return c }
    let (c, listen) = try connectOverSSH(host, options: options, source: source, hash: hash, listener: listener, announce: announce)
    if let listen {
      listener.record(host, options: options, remote: listen.path, fresh: listen.fresh, forwardFailed: refused)
    }
    return c
  }

  /// The session over `ssh -T` and, when the script started or found the relay's listener,
  /// its path there.
  static func connectOverSSH(
    _ host: RemoteHost, options: SSHOptions, source: String, hash: String, listener: RelayListener?,
    announce: (@Sendable (String) -> Void)?
  ) throws(IPCError) -> (Connection, (path: String, fresh: Bool)?) {
    let sourceBytes = Array(source.utf8)
    let pair = try MuxSession.socketPair(host: "\(host)")
    // ssh's stderr goes to an unlinked file, not a pipe: a control master it forks keeps
    // stderr open, so a pipe would never reach EOF.
    var template = Array("\(options.runtimeDirectory)/ssh-err.XXXXXX".utf8CString)
    let errFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    if errFD >= 0 { _ = fcntl(errFD, F_SETFD, FD_CLOEXEC) }
    guard errFD >= 0 else {
      Glibc.close(pair[0])
      Glibc.close(pair[1])
      throw IPCError(.system, "host \(host): cannot make a file for ssh's messages: \(String(cString: strerror(errno)))")
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    let argv = [options.binary] + options.arguments(
        host,
        command: command(
          socket: host.socketPath, source: sourceBytes, hash: hash, privilege: host.privilege, relayPath: host.relayPath,
          listener: listener?.remoteName ?? "", persist: options.relayPersist))
    let pid: pid_t
    do throws(IPCError) {
      pid = try spawn(argv, stdio: pair[1], stderr: errFD, host: host)
    } catch {
      Glibc.close(pair[0])
      Glibc.close(pair[1])
      Glibc.close(errFD)
      throw error
    }
    Glibc.close(pair[1])
    let sock = pair[0]
    let ended = SSHEnd(pid: pid, errFD: errFD)
    // Status lines until the relay starts.
    var buffer: [UInt8] = []
    var built = false
    var listen: (path: String, fresh: Bool)?
    func fail(_ e: IPCError) -> IPCError {
      Glibc.close(sock)
      _ = ended.describe()
      return e
    }
    while true {
      guard let line = readLine(sock, &buffer) else {
        let (status, message) = ended.wait()
        if status == 255 {
          throw fail(IPCError(.connectionClosed, "host \(host): ssh failed: \(message.isEmpty ? "exit status 255" : message)"))
        }
        throw fail(
          IPCError(
            .connectionClosed,
            "host \(host): the remote command ended before the relay started (status \(status))\(message.isEmpty ? "" : ": \(message)")"))
      }
      guard line.hasPrefix(marker) else { continue }  // a chatty shell profile
      switch line.dropFirst(marker.count) {
      case "ready", "built":
        let session: MuxSession
        do throws(IPCError) {
          session = try MuxSession(
            host: host.description, socket: sock, pending: buffer, describeEnd: { ended.describe() }, announce: announce)
        } catch {
          _ = ended.describe()
          throw privilegeError(host, error) ?? error
        }
        let connection = Connection(session: session, sshPID: pid, built: built, end: ended)
        let theirs = session.relayInfo["relay"] ?? "unknown"
        guard theirs == RelaySource.version else {
          connection.close()
          let which = host.relayPath.map { "the pre-built relay \($0)" } ?? "the relay"
          throw IPCError(
            .protocolViolation,
            "host \(host): \(which) is version \(theirs), this xcsh needs version \(RelaySource.version): "
              + "build it again from this xcsh's Sources/xcsh-relay/relay.c (`cc -O2 -o relay relay.c`)")
        }
        return (connection, listen)
      case let status where status.hasPrefix("listen ") || status.hasPrefix("listening "):
        let fresh = status.hasPrefix("listen ")
        listen = (String(status.dropFirst(fresh ? "listen ".count : "listening ".count)), fresh)
      case "no-relay":
        throw fail(
          IPCError(
            .system,
            "host \(host): no executable relay at \(host.relayPath ?? "?") (the host's `relay:` in the inventory): "
              + "build one there from this xcsh's Sources/xcsh-relay/relay.c, or remove `relay:` to have xcsh build it"))
      case "source":
        built = true
        if !writeAll(sock, sourceBytes) {
          throw fail(IPCError(.connectionClosed, "host \(host): the connection ended while sending the relay's source"))
        }
      case "build-failed":
        var log = buffer
        buffer = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
          let n = (try? chunk.withUnsafeMutableBytes { try FileDescriptor(rawValue: sock).read(into: $0) }) ?? -1
          if n <= 0 || log.count > 64 << 10 { break }
          log += chunk[0..<n]
        }
        let text = String(decoding: log, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw fail(IPCError(.system, "host \(host): the relay could not be built there with cc:\n\(text)"))
      default:
        continue
      }
    }
  }

  /// The relay ended before its handshake under `sudo -n` / `doas -n`: almost always the
  /// privilege command refusing (a password would be needed, or no rule allows it). Says so,
  /// with ssh's message (which carries sudo's or doas's own).
  static func privilegeError(_ host: RemoteHost, _ error: IPCError) -> IPCError? {
    guard host.privilege != .none, error.code == .connectionClosed else { return nil }
    let p = host.privilege.rawValue
    return IPCError(
      .permissionDenied,
      "host \(host): `\(p) -n` did not start the relay (\(error.message)): allow the ssh user to run "
        + "the relay as root without a password (\(p == "sudo" ? "a NOPASSWD rule in sudoers" : "a `permit nopass` rule in doas.conf"), "
        + "best for a pre-built `relay:` path), or remove `\(p): true` from the host's entry")
  }

  /// Runs `ssh -O …` (a control request to the host's master) and waits for it; whether it
  /// succeeded. Its messages are dropped: a failed request only costs the next process a
  /// session over `ssh -T`.
  @discardableResult
  static func control(_ host: RemoteHost, options: SSHOptions, _ request: [String]) -> Bool {
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    guard null >= 0 else { return false }
    defer { Glibc.close(null) }
    guard let pid = try? spawn([options.binary] + options.arguments(host, request), stdio: null, stderr: null, host: host) else {
      return false
    }
    var status: Int32 = 0
    var r: pid_t
    repeat { r = waitpid(pid, &status, 0) } while r < 0 && errno == EINTR
    return r == pid && status == 0
  }

  /// Creates `dir` (0700) or checks that an existing one is ours and private: the control
  /// sockets in it give the holder our ssh sessions.
  static func makeRuntimeDirectory(_ dir: String) throws(IPCError) {
    do {
      let parent = (dir as NSString).deletingLastPathComponent
      try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw IPCError(.system, "cannot create the ssh runtime directory \(dir): \(error.localizedDescription)")
    }
    // mkdir with the mode, not create-then-chmod: a concurrent connect (`host check` of
    // several hosts) must never see the directory before it is 0700.
    if mkdir(dir, 0o700) != 0, errno != EEXIST {
      throw IPCError(.system, "cannot create the ssh runtime directory \(dir): \(String(cString: strerror(errno)))")
    }
    var st = stat()
    guard stat(dir, &st) == 0, st.st_uid == getuid(), st.st_mode & 0o077 == 0 else {
      throw IPCError(.permissionDenied, "the ssh runtime directory \(dir) must belong to this user with mode 0700")
    }
  }

  static func spawn(_ argv: [String], stdio: Int32, stderr: Int32, host: RemoteHost) throws(IPCError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdio, 0)
    posix_spawn_file_actions_adddup2(&actions, stdio, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    // Its own process group: Ctrl-C at the terminal is the shell's to handle, not ssh's.
    // Default signal handling and an empty mask (the shell ignores SIGPIPE).
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGQUIT)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setpgroup(&attr, 0)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let r = posix_spawnp(&pid, argv[0], &actions, &attr, &cArgs, environ)
    guard r == 0 else {
      throw IPCError(.system, "host \(host): cannot run \(argv[0]): \(String(cString: strerror(r)))")
    }
    return pid
  }

  /// One line from `fd` (buffered in `buffer`), or nil at EOF.
  static func readLine(_ fd: Int32, _ buffer: inout [UInt8]) -> String? {
    while true {
      if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[..<nl], as: UTF8.self)
        buffer.removeFirst(nl + 1)
        return line
      }
      var chunk = [UInt8](repeating: 0, count: 4096)
      guard let n = try? chunk.withUnsafeMutableBytes({ try FileDescriptor(rawValue: fd).read(into: $0) }), n > 0 else {
        return nil
      }
      buffer += chunk[0..<n]
      // The relay's binary hello may follow the status line in the same read: stop at a line.
    }
  }

  /// Sends all of `bytes` on the socket `fd` (never raising SIGPIPE); false when it failed.
  static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    do {
      try bytes.withUnsafeBytes { try Socket(rawValue: fd).sendAll($0) }
      return true
    } catch {
      return false
    }
  }
}

/// How ssh ended: its status and its last message lines, read once.
final class SSHEnd: @unchecked Sendable {
  private let lock = NSLock()
  private let pid: pid_t
  private let errFD: Int32
  private var result: (Int32, String)?

  init(pid: pid_t, errFD: Int32) {
    self.pid = pid
    self.errFD = errFD
  }

  deinit { if result == nil { Glibc.close(errFD) } }

  /// Waits for ssh to exit; its exit status (or 128+signal) and what it wrote to stderr.
  func wait() -> (Int32, String) {
    lock.lock()
    defer { lock.unlock() }
    if let result { return result }
    var status: Int32 = 0
    var r: pid_t
    repeat { r = waitpid(pid, &status, 0) } while r < 0 && errno == EINTR
    let code: Int32 = r < 0 ? -1 : ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    var off: off_t = 0
    while text.count < 64 << 10 {
      let n = chunk.withUnsafeMutableBytes { pread(errFD, $0.baseAddress!, $0.count, off) }
      if n <= 0 { break }
      text += chunk[0..<n]
      off += off_t(n)
    }
    Glibc.close(errFD)
    // ssh ends its lines with CRLF, which Swift reads as one Character: split on any newline.
    let lines = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && !$0.allSatisfy { $0 == "@" } }
    result = (code, lines.suffix(6).joined(separator: "; "))
    return result!
  }

  /// One line for "connection lost (…)".
  func describe() -> String {
    let (status, message) = wait()
    return "ssh exited with status \(status)\(message.isEmpty ? "" : ": \(message)")"
  }
}
