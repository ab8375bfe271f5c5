import Foundation
import Glibc
import Testing
import XCTestSupport

/// A "remote host" made for one test suite: a network namespace with its own address on a
/// veth pair to this namespace, a real `sshd` in it on a test port (key authentication with a
/// throw-away key, its own host key), an ssh_config and known_hosts written here, and xcsh's
/// ssh runtime directory (control masters) and the remote relay cache below the test's own
/// directory. The user's ~/.ssh and ~/.cache are never read or written.
///
/// Traffic stays on the veth pair inside the namespace this harness creates.
final class SSHHostHarness {
  let dir: String
  let namespace: String
  let hostVeth: String
  let address: String
  let port = 2222
  /// sshd's pid. Not a Foundation `Process`: sshd closes every inherited descriptor, which
  /// Foundation takes for an exit and then blocks its monitor thread in waitpid on it.
  private var sshd: pid_t = 0

  /// The ssh_config alias of the host (user root, the test key, the test known_hosts).
  static let alias = "xcsh-test-host"
  var sshConfig: String { dir + "/ssh_config" }
  /// Where the relay is cached on the "remote" (sshd sets XDG_CACHE_HOME for its sessions).
  var remoteCache: String { dir + "/remote-cache/xcsh" }

  /// `index` tells apart the hosts of one test process (a fleet): each has its own namespace,
  /// veth pair and /30. `sshdOptions` are more sshd_config lines (a server that refuses
  /// stream-local forwarding).
  init(index: Int = 0, sshdOptions: [String] = []) throws {
    precondition((0..<60).contains(index))
    var template = Array("/tmp/xcsh-ssh-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    dir = String(cString: p)
    let tag = String(getpid() % 100_000) + (index == 0 ? "" : "n\(index)")
    namespace = "xcshrt\(tag)"
    hostVeth = "xrt\(tag)a"
    // 10.213.x.(4i)/30: a test subnet on a link only this harness has.
    let third = Int(getpid() % 250) + 1
    address = "10.213.\(third).\(4 * index + 2)"
    do {
      try setUpNetwork(hostAddress: "10.213.\(third).\(4 * index + 1)")
      try writeKeysAndConfigs(sshdOptions: sshdOptions)
      try startSSHD()
    } catch {
      tearDown()
      throw error
    }
  }

  private func setUpNetwork(hostAddress: String) throws {
    let peer = String(hostVeth.dropLast()) + "b"
    try run("/usr/sbin/ip", ["netns", "add", namespace])
    try run("/usr/sbin/ip", ["link", "add", hostVeth, "type", "veth", "peer", "name", peer])
    try run("/usr/sbin/ip", ["link", "set", peer, "netns", namespace])
    try run("/usr/sbin/ip", ["addr", "add", "\(hostAddress)/30", "dev", hostVeth])
    try run("/usr/sbin/ip", ["link", "set", hostVeth, "up"])
    try run("/usr/sbin/ip", ["-n", namespace, "addr", "add", "\(address)/30", "dev", peer])
    try run("/usr/sbin/ip", ["-n", namespace, "link", "set", peer, "up"])
    try run("/usr/sbin/ip", ["-n", namespace, "link", "set", "lo", "up"])
  }

  private func writeKeysAndConfigs(sshdOptions: [String]) throws {
    for key in ["id", "other_id", "hostkey", "other_hostkey"] {
      try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "xcsh-test-\(key)", "-f", "\(dir)/\(key)"])
    }
    try FileManager.default.copyItem(atPath: "\(dir)/id.pub", toPath: "\(dir)/authorized_keys")
    let hostPub = try String(contentsOfFile: "\(dir)/hostkey.pub", encoding: .utf8)
    let otherPub = try String(contentsOfFile: "\(dir)/other_hostkey.pub", encoding: .utf8)
    try "[\(address)]:\(port) \(hostPub)".write(toFile: "\(dir)/known_hosts", atomically: true, encoding: .utf8)
    try "[\(address)]:\(port) \(otherPub)".write(toFile: "\(dir)/wrong_known_hosts", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: dir + "/remote-cache", withIntermediateDirectories: true)
    let sshd = """
      Port \(port)
      ListenAddress \(address)
      HostKey \(dir)/hostkey
      AuthorizedKeysFile \(dir)/authorized_keys
      PermitRootLogin prohibit-password
      PasswordAuthentication no
      KbdInteractiveAuthentication no
      UsePAM no
      StrictModes no
      PidFile \(dir)/sshd.pid
      SetEnv XDG_CACHE_HOME=\(dir)/remote-cache
      LogLevel ERROR

      """ + sshdOptions.map { $0 + "\n" }.joined()
    try sshd.write(toFile: "\(dir)/sshd_config", atomically: true, encoding: .utf8)
    func host(_ alias: String, identity: String, knownHosts: String) -> String {
      configEntry(alias, identity: identity, knownHosts: knownHosts)
    }
    let config =
      host(Self.alias, identity: "id", knownHosts: "known_hosts")
      + host("xcsh-test-wrong-hostkey", identity: "id", knownHosts: "wrong_known_hosts")
      + host("xcsh-test-wrong-key", identity: "other_id", knownHosts: "known_hosts")
    try config.write(toFile: sshConfig, atomically: true, encoding: .utf8)
    for f in ["id", "other_id", "hostkey", "other_hostkey"] { chmod("\(dir)/\(f)", 0o600) }
  }

  /// An ssh_config `Host` entry reaching this host as `alias` (a fleet test joins several
  /// harnesses' entries in one file).
  func configEntry(_ alias: String, identity: String = "id", knownHosts: String = "known_hosts") -> String {
    """
    Host \(alias)
      HostName \(address)
      Port \(port)
      User root
      IdentityFile \(dir)/\(identity)
      IdentitiesOnly yes
      IdentityAgent none
      UserKnownHostsFile \(dir)/\(knownHosts)
      GlobalKnownHostsFile /dev/null
      StrictHostKeyChecking yes
      CheckHostIP no
      ConnectTimeout 10
      LogLevel ERROR

    """
  }

  private func startSSHD() throws {
    // sshd wants its privilege separation directory.
    try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    let argv = ["/usr/bin/nsenter", "--net=/var/run/netns/\(namespace)", "--", "/usr/sbin/sshd", "-D", "-e", "-f", "\(dir)/sshd_config"]
    let log = open(dir + "/sshd.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer {
      close(log)
      close(null)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, null, 0)
    posix_spawn_file_actions_adddup2(&actions, null, 1)
    posix_spawn_file_actions_adddup2(&actions, log, 2)
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 else { throw TestFailure("cannot start sshd") }
    sshd = pid
    // Ready when it accepts on its address (bounded).
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if accepts() { return }
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        sshd = 0
        throw TestFailure("sshd exited: \(sshdLog)")
      }
      usleep(20_000)  // polling for the listener, bounded by the deadline
    }
    throw TestFailure("sshd did not listen on \(address):\(port) within 20 s: \(sshdLog)")
  }

  var sshdLog: String { (try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? "" }

  private func accepts() -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, address, &a.sin_addr)
    return withUnsafePointer(to: &a) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
  }

  /// The environment for an xcsh that reaches this host: the test ssh_config, a private
  /// runtime directory for the control masters (per `runtime` name), no agent.
  func environment(runtime: String = "rt") -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["XCSH_SSH_CONFIG"] = sshConfig
    env["XCSH_RUNTIME_DIR"] = "\(dir)/\(runtime)"
    env["XCSH_SSH_CONTROL_PERSIST"] = "30"
    env["SSH_AUTH_SOCK"] = nil
    env["XC_HOST"] = nil
    env["XC_SOCKET"] = nil
    return env
  }

  /// Every control master of every runtime directory: told to exit; and the relay listeners
  /// (what xcsh keeps between processes), ended unless `keepingListeners`.
  func stopControlMasters(keepingListeners: Bool = false) {
    defer { if !keepingListeners { stopRelayListeners() } }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    for runtime in entries where runtime.hasPrefix("rt") {
      let ssh = "\(dir)/\(runtime)/ssh"
      for name in (try? FileManager.default.contentsOfDirectory(atPath: ssh)) ?? [] where name.hasPrefix("cm-") {
        _ = try? run("/usr/bin/ssh", ["-F", sshConfig, "-o", "ControlPath=\(ssh)/\(name)", "-O", "exit", Self.alias], allowFailure: true)
      }
    }
  }

  /// Processes whose command line names this harness's directory (sshd, its sessions, the
  /// relay, control masters), other than sshd itself.
  func leftoverProcesses(includingSSHD: Bool = false) -> [String] {
    var left: [String] = []
    let sshdPID = sshd
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
      guard let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { continue }
      let text = String(decoding: cmd.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
      guard text.contains(dir) || text.contains("relay-") && text.contains("xcsh") else { continue }
      if !includingSSHD, Int32(pid) == sshdPID || text.contains("nsenter") && text.contains(dir + "/sshd_config") { continue }
      if Int32(pid) == getpid() { continue }
      left.append("\(pid): \(text)")
    }
    return left
  }

  /// The relay listeners (`relay --serve`, kept between xcsh processes) running for this
  /// harness: `pid: command line`. Known by their socket in the remote cache's `xcsh/run`, so a
  /// pre-built relay's listener (any file name) counts too.
  /// (The ssh client's command line holds the start script, `"$r" --serve`: not one; nor is
  /// a listener's session child, which shows the listener's command line until it execs.)
  func relayListeners() -> [String] {
    let all = leftoverProcesses().filter { $0.range(of: " --serve [^ ]*/xcsh/run/", options: .regularExpression) != nil }
    let pids = Set(all.compactMap { Int32($0.prefix { $0 != ":" }) })
    return all.filter { line in
      guard let pid = Int32(line.prefix { $0 != ":" }), let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
      else { return true }
      let fields = text[text.index(after: close)...].split(separator: " ")
      return !(fields.count > 1 && Int32(fields[1]).map(pids.contains) == true)
    }
  }

  /// The relays serving a session (over ssh, or forked by a listener), listeners not counted.
  func sessionRelays(hash: String) -> [String] {
    leftoverProcesses().filter { $0.contains("relay-\(hash)") && !$0.contains("relay-\(hash) --serve ") }
  }

  /// Ends every relay listener of this harness (SIGTERM: each removes its socket and exits;
  /// the sessions it started run on to their end) and waits (bounded) until they are gone:
  /// their command line names the daemon's socket, which the daemon's own leak check sees.
  func stopRelayListeners() {
    for line in relayListeners() {
      if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGTERM) }
    }
    let deadline = Date().addingTimeInterval(10)
    while !relayListeners().isEmpty, Date() < deadline { usleep(20_000) }  // polling, bounded
  }

  /// What was still running after the control masters were told to exit (relays, sessions,
  /// masters): killed by `tearDown`, reported by `expectGone`.
  private(set) var leftAtTearDown: [String] = []

  /// Removes everything: control masters, sshd, the namespace and veths, the directory.
  func tearDown() {
    stopControlMasters()
    // Relays end when their session does: give them a bounded moment.
    let deadline = Date().addingTimeInterval(10)
    while !leftoverProcesses().isEmpty, Date() < deadline { usleep(50_000) }  // polling, bounded
    leftAtTearDown = leftoverProcesses()
    if sshd > 0 {
      kill(sshd, SIGTERM)
      var status: Int32 = 0
      let deadline = Date().addingTimeInterval(10)
      while waitpid(sshd, &status, WNOHANG) == 0 {
        if Date() > deadline {
          kill(sshd, SIGKILL)
          waitpid(sshd, &status, 0)
          break
        }
        usleep(20_000)  // polling for its exit, bounded by the deadline
      }
      sshd = 0
    }
    // sshd's session children that outlived it (a session of a killed master).
    for line in leftoverProcesses(includingSSHD: true) {
      if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGKILL) }
    }
    _ = try? run("/usr/sbin/ip", ["link", "del", hostVeth], allowFailure: true)
    _ = try? run("/usr/sbin/ip", ["netns", "del", namespace], allowFailure: true)
    try? FileManager.default.removeItem(atPath: dir)
  }

  /// Nothing of the harness is left: namespace, veth, processes.
  func expectGone(sourceLocation: SourceLocation = #_sourceLocation) {
    let netns = (try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? []
    #expect(!netns.contains(namespace), "netns \(namespace) left", sourceLocation: sourceLocation)
    #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(hostVeth)"), "veth \(hostVeth) left", sourceLocation: sourceLocation)
    #expect(leftAtTearDown.isEmpty, "processes left after the control masters exited: \(leftAtTearDown)", sourceLocation: sourceLocation)
    #expect(leftoverProcesses(includingSSHD: true).isEmpty, "processes left: \(leftoverProcesses(includingSSHD: true))", sourceLocation: sourceLocation)
  }

  @discardableResult
  func run(_ path: String, _ args: [String], allowFailure: Bool = false) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    if p.terminationStatus != 0 && !allowFailure {
      throw TestFailure("\(path) \(args.joined(separator: " ")) failed: \(text)")
    }
    return text
  }
}

/// Runs the built xcsh with `args`, `environment`, and stdin from `input` (nil: /dev/null);
/// fails the test after `seconds` (a hang is a failure, not a stuck suite). `wrapper` is a
/// command that execs the argv after it (xcsh's path, then `args`).
func runXcsh(
  _ args: [String], environment: [String: String], input: [UInt8]? = nil, seconds: Double = 120,
  wrapper: [String] = []
) throws -> (status: Int32, out: String, err: String) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: wrapper.first ?? XCShellObjectTests.xcsh)
  p.arguments = wrapper.isEmpty ? args : Array(wrapper.dropFirst()) + [XCShellObjectTests.xcsh] + args
  p.environment = environment
  let out = Pipe()
  let err = Pipe()
  p.standardOutput = out
  p.standardError = err
  let inPipe = Pipe()
  p.standardInput = input == nil ? FileHandle.nullDevice : inPipe
  let done = DispatchSemaphore(value: 0)
  p.terminationHandler = { _ in done.signal() }
  try p.run()
  if let input {
    let w = inPipe.fileHandleForWriting
    Thread.detachNewThread {
      w.write(Data(input))
      try? w.close()
    }
  }
  let outData = Box<Data>(Data())
  let errData = Box<Data>(Data())
  let readers = DispatchGroup()
  for (pipe, box) in [(out, outData), (err, errData)] {
    readers.enter()
    Thread.detachNewThread {
      box.set(pipe.fileHandleForReading.readDataToEndOfFile())
      readers.leave()
    }
  }
  if done.wait(timeout: .now() + seconds) == .timedOut {
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    throw TestFailure("xcsh \(args.joined(separator: " ")) did not finish within \(Int(seconds)) s")
  }
  _ = readers.wait(timeout: .now() + 10)
  return (p.terminationStatus, String(decoding: outData.get(), as: UTF8.self), String(decoding: errData.get(), as: UTF8.self))
}
