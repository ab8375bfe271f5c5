import Synchronization
import SystemPackage
import XCSystem

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A blocking client for one connection to xcd (or the Linux daemon).
///
///     let client = try XCClient()                 // $XC_SOCKET, else /var/run/xc.sock
///     let containers = try client.call(ListContainersRequest())
///
/// Calls are strictly one at a time per connection, as the protocol requires; concurrent
/// callers on one client are serialized by a lock, so the client is `Sendable`. Open several
/// clients for parallelism. Descriptors in `FDRef` fields are sent with the request and stay
/// owned by the caller.
///
/// A connection becomes unusable after a timeout, a protocol violation or the daemon closing
/// it (later calls fail with `.connectionClosed`); connect again. Keep the connection that made
/// a `link` call open for as long as the container should live (spec trap 20).
public final class XCClient: Sendable {
  /// xc's default socket path.
  public static let defaultSocketPath = "/var/run/xc.sock"

  /// `$XC_SOCKET` if set and non-empty, else `/var/run/xc.sock`.
  public static var environmentSocketPath: String {
    if let p = getenv("XC_SOCKET"), p.pointee != 0 { return String(cString: p) }
    return defaultSocketPath
  }

  /// The socket path this client connected to ("" for an adopted socket).
  public let path: String

  private struct State {
    var channel: FrameChannel?
    var timeoutMillis: Int64 = 0
  }
  private let state: Mutex<State>
  private let defaultTimeout: Duration?

  /// Connects to `path` (default `environmentSocketPath`). `timeout` bounds each call's wait
  /// for an answer (nil = wait forever; `pull_image` and `purge` can be slow).
  public init(
    path: String? = nil, timeout: Duration? = nil, limits: FrameLimits = .default
  ) throws(IPCError) {
    let p = path ?? XCClient.environmentSocketPath
    let socket: Socket
    do throws(Errno) {
      socket = try Socket.connect(toUnixPath: p)
    } catch {
      throw XCClient.connectError(error, path: p)
    }
    self.path = p
    self.defaultTimeout = timeout
    self.state = Mutex(State(channel: FrameChannel(socket: socket, limits: limits)))
  }

  /// Uses an already connected socket (for instance one end of a socketpair); the client owns
  /// it from now on.
  public init(adopting socket: Socket, timeout: Duration? = nil, limits: FrameLimits = .default) {
    self.path = ""
    self.defaultTimeout = timeout
    self.state = Mutex(State(channel: FrameChannel(socket: socket, limits: limits)))
  }

  /// Closes the connection. Later calls fail with `.connectionClosed`.
  public func close() {
    state.withLock { s in
      s.channel?.close()
      s.channel = nil
    }
  }

  /// Whether the connection is still usable.
  public var isOpen: Bool { state.withLock { $0.channel != nil } }

  /// Calls `R.method` with `request` and returns the typed answer. Errors name the method:
  /// `.daemon` (errno and text from the daemon), `.connectionClosed` (no answer: xcd closes
  /// the connection when a payload does not decode), `.timeout`, `.decoding`, `.encoding`.
  public func call<R: XCRequest>(_ request: R, timeout: Duration? = nil) throws(IPCError)
    -> R.Response
  {
    let (body, fds) = try Envelope.encodeRequest(request)
    let frame = try exchange(method: R.method, body: body, descriptors: fds, timeout: timeout)
    let reply: Envelope.Reply<R.Response>
    do {
      reply = try Envelope.decodeResponse(R.Response.self, from: frame.body)
    } catch {
      throw IPCError(
        .decoding, method: R.method,
        "cannot read the daemon's answer: \(Envelope.describe(error))")
    }
    switch reply {
    case .success(let v): return v
    case .failure(let e) where e.errno == XCPeerPolicy.refusedErrno:
      // The daemon's peer check refused this process: say which socket, and why.
      throw IPCError(
        .permissionDenied, method: R.method,
        "the daemon at \(path.isEmpty ? "this socket" : path) refused the connection: \(e.value.text)",
        daemonError: e)
    case .failure(let e):
      throw IPCError(
        .daemon, method: R.method, "\(XCClient.errnoName(e.errno)): \(e.value.text)",
        daemonError: e)
    }
  }

  /// Sends a raw body (any JSON, any descriptors) and returns the raw answer frame. For tests
  /// and tools; `call` is the typed path.
  public func exchange(
    method: String, body: [UInt8], descriptors: [FileDescriptor] = [], timeout: Duration? = nil
  ) throws(IPCError) -> Frame {
    let wanted = XCClient.millis(timeout ?? defaultTimeout)
    let result: Result<Frame, IPCError> = state.withLock { s in
      guard let channel = s.channel else {
        return .failure(IPCError(.connectionClosed, method: method, "the connection is closed"))
      }
      do throws(IPCError) {
        if wanted != s.timeoutMillis {
          do throws(Errno) {
            try channel.socket.setIOTimeout(milliseconds: wanted)
          } catch {
            throw IPCError(.system, "cannot set the timeout: \(error)", errno: error)
          }
          s.timeoutMillis = wanted
        }
        try channel.send(body: body, descriptors: descriptors)
        guard let frame = try channel.receive() else {
          throw IPCError(
            .connectionClosed,
            "the daemon closed the connection without answering (xcd does this when the payload does not match the method)"
          )
        }
        return .success(frame)
      } catch {
        // Encoding problems are caught before anything is written; everything else leaves
        // the stream in an unknown state.
        if error.code != .encoding {
          channel.close()
          s.channel = nil
        }
        return .failure(error.forMethod(method))
      }
    }
    return try result.get()
  }

  static func millis(_ d: Duration?) -> Int64 {
    guard let d else { return 0 }
    let (s, a) = d.components
    return max(1, s * 1000 + a / 1_000_000_000_000_000)
  }

  static func connectError(_ e: Errno, path: String) -> IPCError {
    switch e {
    case .noSuchFileOrDirectory, .connectionRefused, .notDirectory:
      IPCError(.noDaemon, "no daemon is listening at \(path) (\(e))", errno: e)
    case .permissionDenied, .notPermitted:
      IPCError(
        .permissionDenied,
        "permission denied connecting to \(path): \(XCClient.socketAccessHint(path))", errno: e)
    case .fileNameTooLong:
      IPCError(.system, "socket path too long: \(path)", errno: e)
    default:
      IPCError(.system, "cannot connect to \(path): \(e)", errno: e)
    }
  }

  /// Who may use the socket at `path`, from its owner, group and mode: the daemon admits
  /// root and members of the socket's group.
  static func socketAccessHint(_ path: String) -> String {
    var st = stat()
    guard stat(path, &st) == 0 else { return "run as root or as a member of the socket's group" }
    var group = "gid \(st.st_gid)"
    if let g = getgrgid(st.st_gid), let name = g.pointee.gr_name {
      group = "group \(String(cString: name)) (gid \(st.st_gid))"
    }
    let mode = String(st.st_mode & 0o777, radix: 8)
    return "the socket is mode 0\(mode) for \(group); run as root or as a member of that group"
  }

  /// The FreeBSD name of a daemon errno, as xc numbers them.
  public static func errnoName(_ n: Int) -> String {
    switch n {
    case 1: "EPERM"
    case 2: "ENOENT"
    case 5: "EIO"
    case 13: "EACCES"
    case 17: "EEXIST"
    case 20: "ENOTDIR"
    case 22: "EINVAL"
    case 60: "ETIMEDOUT"
    case 128: "error 128"
    default: "errno \(n)"
    }
  }
}
