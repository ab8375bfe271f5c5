import Foundation
import XCIPC

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The relay kept running on a host between xcsh processes (docs/remote.md, "Performance"):
/// a listener there (`relay --serve`) on a UNIX socket in a 0700 directory of the remote cache,
/// reached through a stream-local forward the control master holds (`ssh -O forward -L
/// LOCAL:REMOTE`), so a later process opens a relay session with one `connect` here and one
/// channel there: no ssh process, no sshd session, no login shell. When the local socket is
/// absent or the channel fails (the master or the listener gone, or the server refuses
/// stream-local forwarding) the caller falls back to `ssh -T HOST <relay>`, which starts the
/// listener again.
struct RelayListener {
  /// The forward's socket here, in xcsh's private runtime directory.
  let local: String
  /// The listener's file name there (`HASH-KEY`, below `${XDG_CACHE_HOME:-~/.cache}/xcsh/run/`):
  /// the source's hash, so a new relay never talks to an old listener, and what the relay
  /// serves (the daemon's socket, the privilege, a pre-built relay).
  let remoteName: String
  /// Present while stream-local forwarding was refused for this host: not tried again.
  var refusedMarker: String { local + ".refused" }

  init(_ host: RemoteHost, options: SSHOptions, hash: String) {
    let served = [host.privilege.rawValue, host.relayPath ?? "", host.socketPath]
    remoteName = "\(hash)-\(Self.fnv(served))"
    // Everything that picks the remote end: the ssh target and options, and what is served.
    let target = [hash, host.host, host.user ?? "", host.port.map(String.init) ?? "", options.configFile ?? ""] + host.sshOptions + served
    local = "\(options.runtimeDirectory)/relay-\(Self.fnv(target))"
  }

  /// A session through the forward, or nil when there is none to use (then `refused` says
  /// whether the forward was there and closed the connection before the relay's handshake).
  func connect(
    _ host: RemoteHost, announce: (@Sendable (String) -> Void)?, refused: inout Bool
  ) throws(IPCError) -> SSHTransport.Connection? {
    var a = sockaddr_un()
    a.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(local.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: a.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &a.sun_path) { $0.copyBytes(from: bytes) }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    let ok = withUnsafePointer(to: &a) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard ok == 0 else {
      // A socket nobody listens on is the forward of a master that is gone: the next forward
      // binds here again.
      if errno == ECONNREFUSED { unlink(local) }
      Glibc.close(fd)
      return nil
    }
    let session: MuxSession
    do throws(IPCError) {
      session = try MuxSession(
        host: host.description, socket: fd,
        describeEnd: { "the control master's channel to the relay closed" }, announce: announce)
    } catch {
      // EOF before the handshake: the listener is gone, or the server refused the channel.
      guard error.code == .connectionClosed else { throw error }
      refused = true
      return nil
    }
    return SSHTransport.Connection(session: session, sshPID: nil, built: false, end: nil)
  }

  /// After a session over `ssh -T`, whose script said the listener runs at `remote`
  /// (`fresh`: it started just now): asks the control master to forward to it, unless the
  /// server refused that (a forward that closed before the handshake while the listener
  /// already ran there: recorded, and the forward withdrawn). Failures only mean the next
  /// process comes through `ssh -T` again.
  func record(
    _ host: RemoteHost, options: SSHOptions, remote: String, fresh: Bool, forwardFailed: Bool
  ) {
    guard !remote.contains(":") else { return }  // ssh would split the forward there
    let spec = "\(local):\(remote)"
    if forwardFailed && !fresh {
      let fd = open(refusedMarker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
      if fd >= 0 { Glibc.close(fd) }
      SSHTransport.control(host, options: options, ["-O", "cancel", "-L", spec])
      return
    }
    var st = stat()
    if stat(refusedMarker, &st) == 0, time(nil) - st.st_mtim.tv_sec < max(options.relayPersist, 60) { return }
    unlink(refusedMarker)
    SSHTransport.control(host, options: options, ["-O", "forward", "-L", spec])
  }

  /// 16 hex digits of FNV-1a over the parts (a name, not a secret: the directories are private).
  static func fnv(_ parts: [String]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for part in parts {
      for b in part.utf8 + [0] {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
      }
    }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}
