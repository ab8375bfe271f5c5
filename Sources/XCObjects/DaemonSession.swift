import Dispatch
import Foundation
import SystemPackage
import XCIPC
import XCRemote
import XCShell

/// How xcsh talks to the daemon (`xcsh --trace`, `--dry-run`, `--ephemeral`, `--keep-daemon`).
public struct DaemonModes: Sendable {
  /// Each call and its result on stderr.
  public var trace = false
  /// No mutating call reaches the daemon: plan lines and placeholders instead.
  public var dryRun = false
  /// What the script created is removed when it ends.
  public var ephemeral = false
  /// Leave an embedded daemon running at exit.
  public var keepDaemon = false
  public init() {}
}

/// The shell's connection to xcd: opened on first use, and its failures turned into shell errors
/// that name the method and say what to do.
///
/// Calls go through a stack of transports, each an `XCCaller`: dry run (plan lines instead of
/// mutating calls), ephemeral (remembers what was created), trace (logs each call), and the
/// connection pool (one connection per concurrent caller, so `par-each` workers call the daemon
/// in parallel). With the default socket and nothing answering there, the pool starts the
/// embedded xcd on the first call.
public final class DaemonSession: @unchecked Sendable {
  public let modes: DaemonModes
  private let endpoint: DaemonEndpoint
  private let pool: ConnectionPool
  /// `--host`: the daemon on another machine, through ssh and the relay.
  private let remote: RemoteCaller?
  private let ephemeral: EphemeralCaller?
  private let caller: any XCCaller
  private let finished = NSLock()
  private var isFinished = false

  /// The socket in use (the embedded daemon's once it has started; `ssh://…` for a remote host).
  public var socketPath: String {
    if let remote { return "ssh://\(remote.host)\(remote.host.socketPath)" }
    return endpoint.currentPath
  }

  /// A session on exactly `socketPath` (no embedded fallback, no modes).
  public convenience init(socketPath: String) {
    self.init(socketPath: socketPath, explicit: true)
  }

  /// A session on `socketPath`. When the path is not `explicit` (it is the default, not
  /// `--socket` or `$XC_SOCKET`) and nothing answers there, the first call starts the embedded
  /// xcd (Linux; not in a dry run).
  public init(
    socketPath: String, explicit: Bool, modes: DaemonModes = DaemonModes(),
    environment: [String: String] = ProcessInfo.processInfo.environment, host: RemoteHost? = nil
  ) {
    self.modes = modes
    remote = host.map { RemoteCaller(host: $0, options: SSHOptions.fromEnvironment(environment), announce: StandardError.write) }
    let embedded = explicit || modes.dryRun || host != nil ? nil : EmbeddedDaemon.forThisProcess(environment: environment)
    embedded?.keep = modes.keepDaemon
    endpoint = DaemonEndpoint(path: socketPath, explicit: explicit, embedded: embedded, announce: StandardError.write)
    pool = ConnectionPool(endpoint: endpoint)
    var c: any XCCaller = remote ?? pool
    if modes.trace { c = TracingCaller(inner: c, write: StandardError.write) }
    if modes.ephemeral, !modes.dryRun {
      let e = EphemeralCaller(inner: c)
      ephemeral = e
      c = e
    } else {
      ephemeral = nil
    }
    if modes.dryRun { c = DryRunCaller(inner: c, write: StandardError.write) }
    caller = c
  }

  /// Calls the daemon; IPC failures become `daemon.*` errors located at the command.
  /// Safe from several threads at once (each call takes its own connection).
  public func call<R: XCRequest>(_ request: R, at span: Span) throws -> R.Response {
    do {
      return try caller.call(request, timeout: nil)
    } catch {
      throw Self.shellError(error, at: span, path: socketPath, remote: remote != nil)
    }
  }

  static func shellError(_ error: IPCError, at span: Span, path: String, remote: Bool = false) -> ShellError {
    // A remote host's message already says what to do there (docs/remote.md).
    let help = remote ? "the daemon is on another host (--host / $XC_HOST): see docs/remote.md" : helpLine(for: error)
    if error.method == nil, error.code == .noDaemon || error.code == .permissionDenied || error.code == .system
      || error.code == .timeout
    {
      // Connecting (or starting the embedded daemon) failed: no method was sent.
      return ShellError("daemon.unavailable", "cannot reach the xc daemon at \(path): \(error)", at: span, help: help)
    }
    var e = ShellError(ShellError.Code(rawValue: "daemon.\(error.code.rawValue)"), "\(error)", at: span)
    if error.code == .noDaemon || error.code == .permissionDenied { e.help = help }
    return e
  }

  /// What to do about a failed connection. A daemon that refuses us is running: starting one
  /// is no advice then; who may use the socket is (the message itself names the group).
  static func helpLine(for error: IPCError) -> String {
    if error.code == .permissionDenied {
      return "xcd serves root and members of its socket group only: run as root, join that group (then log in again), or point xcsh at another daemon with --socket PATH"
    }
    return "start xcd or point xcsh at it with --socket PATH or $XC_SOCKET"
  }

  /// Ends the session, however the script ended: removes what `--ephemeral` recorded, closes
  /// the connections and stops the embedded daemon (unless `keepDaemon`). Runs once.
  public func finish() {
    finished.lock()
    defer { finished.unlock() }
    if isFinished { return }
    isFinished = true
    if let ephemeral {
      let (removed, failures) = ephemeral.cleanUp()
      for f in failures { StandardError.write("xcsh: --ephemeral: \(f)\n") }
      if !removed.isEmpty {
        StandardError.write("xcsh: --ephemeral removed \(removed.map(\.description).joined(separator: ", "))\n")
      }
    }
    pool.closeAll()
    remote?.close()
    if let d = endpoint.startedDaemon {
      if modes.keepDaemon {
        StandardError.write("xcsh: the embedded xcd keeps running on \(d.socketPath) (pid \(d.pid))\n")
      } else {
        d.stop()
      }
    }
  }

  private var nameCache: [ObjectType: (at: UInt64, names: [String])] = [:]

  /// Names of live objects for completion: cached for two seconds, and never an error (a Tab
  /// must not stall or break the line when the daemon is slow or gone, nor start one).
  public func names(of type: ObjectType) -> [String] {
    let now = DispatchTime.now().uptimeNanoseconds
    if let c = nameCache[type], now - c.at < 2_000_000_000 { return c.names }
    var names: [String] = []
    let base: any XCCaller = remote ?? pool
    if remote?.isConnected ?? endpoint.isReady {
      switch type {
      case .container:
        if let list = try? base.call(ContainerNamesRequest(), timeout: .seconds(1)) {
          names = list.flatMap { [$0.name, $0.id] }
        }
      case .image:
        if let list = try? base.call(ListAllImagesRequest(), timeout: .seconds(1)) {
          names = list.manifests.map(\.imageReference)
        }
      default: break
      }
    }
    nameCache[type] = (now, names)
    return names
  }

  /// A daemon record as a shell value: the fields exactly as the daemon sends them.
  static func value<T: Encodable>(_ record: T, as type: ObjectType?) throws -> Value {
    var fds: [FileDescriptor] = []
    let bytes = try WireEncoder().encode(record, descriptors: &fds)
    let v = try Value.fromJSON(String(decoding: bytes, as: UTF8.self))
    guard let type, let fields = v.recordValue else { return v }
    return Value(.object(ObjectValue(type: type, fields: fields)))
  }
}

/// `list_containers` read for completion: the same request, but only each record's name and id
/// are decoded (the full manifests of a thousand containers cost more than a Tab may take).
struct ContainerNamesRequest: XCNullPayloadRequest {
  static let method = ListContainersRequest.method
  struct Name: Codable, Sendable {
    var name: String
    var id: String
  }
  typealias Response = [Name]
}
