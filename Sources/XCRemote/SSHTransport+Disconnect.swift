#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension SSHTransport {
  /// What `disconnect` found running and ended.
  public struct Disconnected: Sendable, Equatable {
    /// The relay listener on the host (`relay --serve`).
    public var listener: Bool
    /// This machine's ssh control master for the host.
    public var master: Bool
  }

  /// Ends what this machine keeps open to `host` between xcsh processes (`host disconnect`):
  /// the relay listener there — asked through the control master's forward, the one way to
  /// reach that listener and no other (the relay ends the listener that started it) — then the
  /// control master (`ssh -O exit`, which takes the forward with it) and the forward's socket
  /// here. Sessions already open keep running until they end; the next call connects from
  /// scratch. Nothing is started to do this: a host with neither gives `false, false`.
  public static func disconnect(_ host: RemoteHost, options: SSHOptions, hash: String = RelaySource.hash) -> Disconnected {
    let listener = RelayListener(host, options: options, hash: hash)
    var ended = false
    var refused = false
    if let c = try? listener.connect(host, announce: nil, refused: &refused) {
      ended = c.session.endListener(timeout: .seconds(10))
      c.close()
    }
    unlink(listener.local)
    unlink(listener.refusedMarker)
    let master = control(host, options: options, ["-O", "exit"])
    return Disconnected(listener: ended, master: master)
  }
}
