import Dispatch
import Foundation
import SystemPackage
import XCIPC
import XCRemote
import XCShell
import XCSystem

/// How xcsh talks to the daemon (`xcsh --trace`, `--dry-run`, `--ephemeral`, `--keep-daemon`).
public struct DaemonModes: Sendable {
  /// Each call and its result on stderr.
  public var trace = false
  /// No mutating call reaches the daemon: plan lines and placeholders instead.
  public var dryRun = false
  /// What the script created is removed when it ends.
  public var ephemeral = false
  /// Leave the private daemon (`isolated`) running at exit.
  public var keepDaemon = false
  /// With no daemon at the default socket, start a private xcd for this process (fresh state,
  /// stopped at exit) instead of joining the shared local one.
  public var isolated = false
  public init() {}
}

/// The shell's connection to xcd: opened on first use, and its failures turned into shell errors
/// that name the method and say what to do.
///
/// Calls go through a stack of transports, each an `XCCaller`: dry run (plan lines instead of
/// mutating calls), ephemeral (remembers what was created), trace (logs each call), and the
/// connection pool (one connection per concurrent caller, so `par-each` workers call the daemon
/// in parallel). With the default socket and nothing answering there, the pool starts (or
/// joins) the shared local xcd on the first call, or a private one with `--isolated`.
public final class DaemonSession: @unchecked Sendable {
  public let modes: DaemonModes
  private let endpoint: DaemonEndpoint
  private let pool: ConnectionPool
  /// `--host`: the daemon on another machine, through ssh and the relay.
  private let remote: RemoteCaller?
  private let ephemeral: EphemeralCaller?
  /// The transports to the script's own daemon; other hosts have theirs in `routes`.
  private let caller: any XCCaller
  private let finished = NSLock()
  /// Whether the script's own daemon serves the `xcsh.*` extensions (`servesExtensions`).
  private let ownExtensions: ExtensionSupport
  private var isFinished = false

  /// The socket in use (the default daemon's once it is in use; `ssh://…` for a remote host).
  public var socketPath: String {
    if let remote { return "ssh://\(remote.host)\(remote.host.socketPath)" }
    return endpoint.currentPath
  }

  /// A session on exactly `socketPath` (no default daemon, no modes).
  public convenience init(socketPath: String) {
    self.init(socketPath: socketPath, explicit: true)
  }

  /// A session on `socketPath`. When the path is not `explicit` (it is the default, not
  /// `--socket` or `$XC_SOCKET`) and nothing answers there, the first call starts the default
  /// xcd (Linux; not in a dry run).
  /// `hostName` is `host` as the user wrote it (`--host`): objects from that daemon carry it in
  /// their `host` field.
  public init(
    socketPath: String, explicit: Bool, modes: DaemonModes = DaemonModes(),
    environment: [String: String] = ProcessInfo.processInfo.environment, host: RemoteHost? = nil,
    hostName: String? = nil
  ) {
    self.modes = modes
    self.environment = environment
    defaultHostName = host.map { hostName ?? "ssh://\($0)\($0.socketPath)" }
    remote = host.map { RemoteCaller(host: $0, options: SSHOptions.fromEnvironment(environment), announce: StandardError.write) }
    var fallback: (any DefaultDaemon)? = nil
    if !explicit, !modes.dryRun, host == nil {
      if modes.isolated {
        let embedded = EmbeddedDaemon.forThisProcess(environment: environment)
        embedded?.keep = modes.keepDaemon
        fallback = embedded
      } else {
        do {
          fallback = try LocalDaemon.forThisUser(environment: environment)
        } catch {
          fallback = UnusableDaemon(IPCError(.system, "\(error)"))
        }
      }
    }
    endpoint = DaemonEndpoint(path: socketPath, explicit: explicit, fallback: fallback, announce: StandardError.write)
    pool = ConnectionPool(endpoint: endpoint)
    (caller, ephemeral) = Self.stack(over: remote ?? pool, modes: modes, host: defaultHostName)
    ownExtensions = Self.extensionSupport(over: remote.map { $0 as any XCCaller } ?? pool)
  }

  /// Remembers whether the daemon behind `base` serves the extensions for as long as its
  /// connection lasts.
  static func extensionSupport(over base: any XCCaller) -> ExtensionSupport {
    if let remote = base as? RemoteCaller { return ExtensionSupport { remote.connectionGeneration } }
    if let pool = base as? ConnectionPool { return ExtensionSupport { pool.connectionGeneration } }
    return ExtensionSupport { 0 }
  }

  /// The transports over `base` that the modes ask for: trace, then ephemeral, then dry run;
  /// trace and plan lines name `host` (a remote host) in each line.
  static func stack(over base: any XCCaller, modes: DaemonModes, host: String?) -> (any XCCaller, EphemeralCaller?) {
    var c = base
    if modes.trace {
      c = TracingCaller(inner: c, write: { line in StandardError.write(traceLine(line, host: host)) })
    }
    var ephemeral: EphemeralCaller? = nil
    if modes.ephemeral, !modes.dryRun {
      let e = EphemeralCaller(inner: c)
      ephemeral = e
      c = e
    }
    if modes.dryRun { c = DryRunCaller(inner: c, write: { line in StandardError.write(planLine(line, host: host)) }) }
    return (c, ephemeral)
  }

  /// A trace line naming the remote host it went to: `trace: [web1] ps …`.
  static func traceLine(_ line: String, host: String?) -> String {
    guard let host, line.hasPrefix("trace: ") else { return line }
    return "trace: [\(host)] " + line.dropFirst("trace: ".count)
  }

  /// A dry run's plan line naming the remote host it was for: `+ [web1] instantiate …`.
  static func planLine(_ line: String, host: String?) -> String {
    guard let host, line.hasPrefix("+ ") else { return line }
    return "+ [\(host)] " + line.dropFirst("+ ".count)
  }

  // MARK: - Other hosts (`on HOST { … }`, `fleet`, objects carrying `host`)

  /// The script's own remote host as the user named it (`--host`), nil for a local daemon.
  public let defaultHostName: String?
  private let environment: [String: String]
  private let routesLock = NSLock()
  /// One session per host for the whole process, whatever name reached it.
  private var routes: [RemoteHost: HostRoute] = [:]
  private var routeNames: [String: RemoteHost] = [:]

  /// A host other than the script's own: its transport (an ssh session opened on the first
  /// call, or this machine's pool for `local` under `--host`) and the mode transports over it.
  final class HostRoute: Sendable {
    let name: String
    /// The ssh session to the host (nil for this machine's daemon or a test's).
    let remote: RemoteCaller?
    let caller: any XCCaller
    let ephemeral: EphemeralCaller?
    /// Whether the host's daemon serves the `xcsh.*` extensions (`servesExtensions`).
    let extensions: ExtensionSupport
    /// Ends the transport's session (nil: the pool's, closed with the script's own).
    let close: (@Sendable () -> Void)?
    init(name: String, base: any XCCaller, modes: DaemonModes, close: (@Sendable () -> Void)?) {
      self.name = name
      remote = base as? RemoteCaller
      extensions = DaemonSession.extensionSupport(over: base)
      self.close = close
      (caller, ephemeral) = DaemonSession.stack(over: base, modes: modes, host: name)
    }
  }

  /// `local` under `--host`: this machine's daemon at the session's socket, made on first use.
  private var localRoute: HostRoute?
  /// Routes that tests give to names (in-process daemons on local sockets instead of ssh).
  private var testRoutes: [String: HostRoute] = [:]

  /// Routes the host name `name` to the daemon at `socketPath` on this machine, for unit tests
  /// of routing (two fake daemons standing for two hosts; no ssh).
  func routeForTesting(_ name: String, socketPath: String) {
    let pool = ConnectionPool(endpoint: DaemonEndpoint(path: socketPath, explicit: true, fallback: nil, announce: { _ in }))
    routesLock.lock()
    defer { routesLock.unlock() }
    testRoutes[name] = HostRoute(name: name, base: pool, modes: modes, close: { pool.closeAll() })
  }

  /// Checks that `name` (an inventory host or an `ssh://` address) can be routed to: an error
  /// naming it otherwise (unknown host, a group, a bad address, a broken inventory). Opens no
  /// connection.
  public func checkHost(_ name: String, at span: Span) throws {
    _ = try target(for: name, at: span)
  }

  /// `checkHost` for each of `names`, reading the inventory once for all of them (a `fleet`
  /// of many hosts would otherwise read and parse it once per host, one after another).
  public func checkHosts(_ names: [String], at span: Span) throws {
    var inventory: HostInventory?
    for name in names where name != DaemonRoute.local && name != defaultHostName && !name.hasPrefix("ssh://") {
      routesLock.lock()
      let known = testRoutes[name] != nil || routeNames[name] != nil
      routesLock.unlock()
      if known { continue }
      do throws(InventoryError) {
        if inventory == nil { inventory = try HostInventory.load(path: HostInventory.defaultPath(environment: environment)) }
        let host = try inventory!.resolve(name)
        routesLock.lock()
        routeNames[name] = host
        routesLock.unlock()
      } catch {
        throw ShellError(.hostInventory, "host `\(name)`: \(error)", at: span)
      }
    }
    for name in names { try checkHost(name, at: span) }
  }

  /// Where a route goes: the script's own daemon, `local` under `--host`, or another host's (or
  /// a test's) `HostRoute` with the path for messages and whether it is remote.
  private enum Found {
    case own
    case local(HostRoute)
    case route(HostRoute, path: String, remote: Bool)
    case unmade
  }

  /// Where the route `name` goes: the one lookup behind calls, `routedRemote` and completion's
  /// `openCaller`. With `make`, a host's route is made on first use (the name resolved in the
  /// inventory, its ssh session opened by the first call); without it, a host not routed to
  /// yet is `.unmade` and nothing is read or made. `local` under `--host` is always made (that
  /// opens nothing).
  private func find(_ name: String?, make: Bool, at span: Span) throws -> Found {
    guard let name, name != defaultHostName else { return .own }
    routesLock.lock()
    defer { routesLock.unlock() }
    if let r = testRoutes[name] { return .route(r, path: name, remote: false) }
    if name == DaemonRoute.local {
      guard remote != nil else { return .own }
      let r = localRoute ?? HostRoute(name: name, base: pool, modes: modes, close: nil)
      localRoute = r
      return .local(r)
    }
    let host: RemoteHost
    if let h = routeNames[name] {
      host = h
    } else {
      guard make else { return .unmade }
      do throws(InventoryError) {
        host = try HostInventory.resolve(name, environment: environment)
      } catch {
        throw ShellError(.hostInventory, "host `\(name)`: \(error)", at: span)
      }
      routeNames[name] = host
    }
    if let remote, remote.host == host { return .own }
    let path = "ssh://\(host)\(host.socketPath)"
    if let r = routes[host] { return .route(r, path: path, remote: true) }
    guard make else { return .unmade }
    let remote = RemoteCaller(host: host, options: SSHOptions.fromEnvironment(environment), announce: StandardError.write)
    let r = HostRoute(name: name, base: remote, modes: modes, close: { remote.close() })
    routes[host] = r
    return .route(r, path: path, remote: true)
  }

  /// The transport stack, the path for messages, and whether it is remote, for the route `name`.
  private func target(for name: String?, at span: Span) throws -> (caller: any XCCaller, path: String, remote: Bool) {
    switch try find(name, make: true, at: span) {
    case .own, .unmade: return (caller, socketPath, remote != nil)
    case .local(let r): return (r.caller, endpoint.currentPath, false)
    case .route(let r, let path, let remote): return (r.caller, path, remote)
    }
  }

  /// What is known of the extensions of the daemon of the thread's route.
  func extensionSupport(at span: Span) throws -> ExtensionSupport {
    switch try find(DaemonRoute.current, make: true, at: span) {
    case .own, .unmade: return ownExtensions
    case .local(let r), .route(let r, _, _): return r.extensions
    }
  }

  /// The host the thread's route goes to as the user named it, nil for this machine's daemon:
  /// where a host path of a `-v` or a Compose bind is (docs/remote.md). Opens no connection.
  func remoteHost(at span: Span) throws -> String? {
    let name = DaemonRoute.current
    guard try target(for: name, at: span).remote else { return nil }
    return name ?? defaultHostName
  }

  /// Connects to a UNIX socket next to the daemon (a container's terminal socket): here, or
  /// on the remote host through the relay. The descriptor is the caller's; nil when nothing
  /// is there (the process and its terminal are gone).
  /// Goes to the host of the thread's route, as `call` does.
  public func connectNextToDaemon(_ path: String) throws(IPCError) -> Int32? {
    if let remote = routedRemote() {
      do throws(IPCError) {
        return try remote.connect(path: path)
      } catch {
        if error.errno == .noSuchFileOrDirectory || error.errno == .connectionRefused { return nil }
        throw error
      }
    }
    do throws(Errno) {
      let socket = try Socket.connect(toUnixPath: path)
      return socket.rawValue
    } catch {
      if error == .noSuchFileOrDirectory || error == .connectionRefused { return nil }
      throw IPCError(.system, "cannot connect to \(path): \(error)", errno: error)
    }
  }

  /// The ssh session of the thread's route, nil when it is this machine's daemon. The route's
  /// session exists by then: the call that made what is connected to went through it.
  func routedRemote() -> RemoteCaller? {
    switch try? find(DaemonRoute.current, make: false, at: .unknown) {
    case .own: return remote
    case .local: return nil
    case .route(let r, _, _): return r.remote
    case .unmade, nil: return nil
    }
  }

  /// Calls the daemon; IPC failures become `daemon.*` errors located at the command.
  /// Safe from several threads at once (each call takes its own connection).
  /// Goes to the daemon of the thread's route (`DaemonRoute`): the script's own, or a host's.
  public func call<R: XCRequest>(_ request: R, at span: Span) throws -> R.Response {
    let t = try target(for: DaemonRoute.current, at: span)
    do {
      return try t.caller.call(request, timeout: nil)
    } catch {
      throw Self.shellError(error, at: span, path: t.path, calling: R.method, remote: t.remote)
    }
  }

  /// The answer of an extension method, or nil when the daemon does not serve it (errno 2,
  /// "method not found", as xc's daemon answers). Only for requests that never answer errno 2
  /// themselves, so the errno tells the two apart without reading the message.
  func callExtension<R: XCRequest>(_ request: R, at span: Span) throws -> R.Response? {
    let t = try target(for: DaemonRoute.current, at: span)
    do {
      return try t.caller.call(request, timeout: nil)
    } catch {
      if error.code == .daemon, error.daemonError?.errno == 2 { return nil }
      throw Self.shellError(error, at: span, path: t.path, remote: t.remote)
    }
  }

  static func shellError(
    _ error: IPCError, at span: Span, path: String, calling method: String? = nil, remote: Bool = false
  ) -> ShellError {
    // A remote host's message already says what to do there (docs/remote.md).
    let help = remote ? "the daemon is on another host (--host / $XC_HOST): see docs/remote.md" : helpLine(for: error)
    if error.method == nil, error.code == .noDaemon || error.code == .permissionDenied || error.code == .system
      || error.code == .timeout
    {
      // Connecting (or starting the default daemon) failed: no method was sent.
      let unsent = method.map { " (`\($0)` was not sent)" } ?? ""
      return ShellError(.daemonUnavailable, "cannot reach the xc daemon at \(path)\(unsent): \(error)", at: span, help: help)
    }
    if error.code == .connectionClosed, let method = error.method, !remote {
      return closedDuring(method, at: span, path: path, gone: !DaemonEndpoint.answers(path))
    }
    if error.code == .daemon, error.daemonError?.isNotFound == true {
      // Which object is missing is for the command to say (`ObjectArgs.missing`); this code
      // only carries the daemon's typed answer that something named was not there.
      return ShellError(.daemonNotFound, "\(error)", at: span)
    }
    var e = ShellError(ShellError.Code(rawValue: "daemon.\(error.code.rawValue)"), "\(error)", at: span)
    if error.code == .noDaemon || error.code == .permissionDenied { e.help = help }
    return e
  }

  /// The connection closed while `method` waited for its answer. When nothing answers at the
  /// socket any more the daemon went away; otherwise it closed this connection on purpose (xc
  /// does that with a request it cannot decode). Either way the caller learns whether the call
  /// may have changed anything (`MethodEffects`).
  static func closedDuring(_ method: String, at span: Span, path: String, gone: Bool) -> ShellError {
    let effect =
      XCMethods.effect(of: method) == .read
      ? "`\(method)` only reads, so nothing was changed"
      : "`\(method)` may have taken effect before it went"
    if gone {
      return ShellError(
        .daemonGone, "the xc daemon at \(path) went away during `\(method)`: \(effect)", at: span,
        help: "restart xcd (its log says why it stopped), then check the state with `ps`, `images`, `networks` before running again")
    }
    return ShellError(
      .daemonClosed, "the xc daemon closed the connection during `\(method)` without answering: \(effect)", at: span,
      help: "xc does that with a request it cannot decode; `--trace` shows the request")
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
  /// the connections and stops a private daemon (unless `keepDaemon`); the local one stays. Runs once.
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
    routesLock.lock()
    let others = (routes.values.sorted { $0.name < $1.name }) + [localRoute].compactMap { $0 } + testRoutes.values
    routesLock.unlock()
    for r in others {
      guard let e = r.ephemeral else { continue }
      let (removed, failures) = e.cleanUp()
      for f in failures { StandardError.write("xcsh: --ephemeral on \(r.name): \(f)\n") }
      if !removed.isEmpty {
        StandardError.write("xcsh: --ephemeral removed on \(r.name): \(removed.map(\.description).joined(separator: ", "))\n")
      }
    }
    pool.closeAll()
    remote?.close()
    for r in others { r.close?() }
    if let d = endpoint.startedDaemon {
      if modes.keepDaemon {
        StandardError.write("xcsh: the private xcd keeps running on \(d.socketPath) (pid \(d.pid))\n")
      } else {
        d.stop()
      }
    }
  }

  private var nameCache: [String: (at: UInt64, names: [String])] = [:]

  /// The transport to ask for completion names on `host` (nil: the script's own daemon), if it
  /// is open already: completion never opens an ssh session or starts a daemon.
  private func openCaller(on host: String?) -> (any XCCaller)? {
    let name = host.flatMap { DaemonRoute.route(ambient: $0, own: defaultHostName) }
    switch try? find(name, make: false, at: .unknown) {
    case .own: return (remote?.isConnected ?? endpoint.isReady) ? (remote.map { $0 as any XCCaller } ?? pool) : nil
    case .local: return endpoint.isReady ? pool : nil
    case .route(let r, _, _):
      guard let remote = r.remote else { return r.caller }
      return remote.isConnected ? remote : nil
    case .unmade, nil: return nil
    }
  }

  /// Names of live objects for completion: cached for two seconds, and never an error (a Tab
  /// must not stall or break the line when the daemon is slow or gone, nor start one).
  /// `host` is the host of the `on` block being typed (nil: the script's own daemon); a host
  /// this process has no open session to offers none.
  public func names(of type: ObjectType, on host: String? = nil) -> [String] {
    let now = DispatchTime.now().uptimeNanoseconds
    let key = "\(type.rawValue)@\(host ?? "")"
    if let c = nameCache[key], now - c.at < 2_000_000_000 { return c.names }
    var names: [String] = []
    if let base = openCaller(on: host) {
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
    nameCache[key] = (now, names)
    return names
  }

  /// A daemon record as a shell value: the fields exactly as the daemon sends them.
  static func value<T: Encodable>(_ record: T, as type: ObjectType?) throws -> Value {
    var fds: [FileDescriptor] = []
    let bytes = try WireEncoder().encode(record, descriptors: &fds)
    let v = try Value.fromJSON(String(decoding: bytes, as: UTF8.self))
    guard let type, var fields = v.recordValue else { return v }
    // Objects from a remote daemon say which (docs/remote.md "Objects carry their host").
    if let host = DaemonRoute.current { fields["host"] = Value(.string(host)) }
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
    var jid: Int?
  }
  typealias Response = [Name]
}
