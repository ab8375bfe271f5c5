import Foundation
import Glibc
import Logging
import SystemPackage
import XCEngine
import XCIPC
import XCSystem

/// The daemon's life: claim the socket, open the engine, serve, and on SIGTERM/SIGINT stop
/// serving, shut the engine down (containers stopped and released) and remove the socket.
struct Daemon {
  var config: Config
  var logger: Logger
  /// Exit after this long with no client connected and no container left (`--idle-exit`;
  /// xcsh's shared local daemon); nil: serve until a stop signal.
  var idleExit: Duration? = nil

  struct StartError: Error, CustomStringConvertible {
    var description: String
  }

  /// SIGTERM and SIGINT, blocked in every thread (they inherit the mask from the main
  /// thread, which blocks them first) and taken synchronously by `sigwait` in `run`. The
  /// engine's children get an empty mask and default dispositions (posix_spawn attributes).
  static var stopSignals: sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    return set
  }

  /// Called first thing in `main`, before any thread exists.
  static func blockStopSignals() {
    var set = stopSignals
    pthread_sigmask(SIG_BLOCK, &set, nil)
    signal(SIGPIPE, SIG_IGN)
  }

  /// Serves until SIGTERM or SIGINT; returns after a clean shutdown.
  func run() throws {
    let path = config.socketPath
    try Self.claimSocket(path, logger: logger)
    let access: SocketAccess
    do {
      access = try SocketAccess.resolve(config.socketGroup)
    } catch {
      throw StartError(description: "\(error)")
    }

    let engine: Engine
    do {
      engine = try Engine(
        stateDir: config.stateDir, runtime: config.runc, logger: logger,
        defaultNetwork: config.engineDefaultNetwork, keepEnded: config.keepEnded)
    } catch let e as EngineError {
      throw StartError(description: "cannot open the engine: \(e)")
    }
    if Engine.bundledInit == nil {
      logger.warning(
        "no xc-init beside \(CommandLine.arguments[0]): main runs as PID 1 of each container")
    }
    let handlers = Handlers(engine: engine, config: config, logger: logger)
    let server: XCServer
    do {
      let old = umask(0o117)  // the socket is created rw for owner and group only
      defer { umask(old) }
      server = try XCServer(path: path, table: handlers.table(), policy: access.policy) { id, _ in
        handlers.connectionClosed(id)
      }
    } catch {
      engine.shutdown(grace: .seconds(config.stopGraceSeconds))
      throw StartError(description: "\(error)")
    }
    do {
      try access.apply(to: path)
    } catch {
      server.stop()
      engine.shutdown(grace: .seconds(config.stopGraceSeconds))
      throw StartError(description: "\(error)")
    }
    server.start()
    let table = handlers.table()
    let logger = self.logger
    handlers.channels.install { channel in
      do {
        try Self.claimSocket(channel, logger: logger)
      } catch {
        throw XCDaemonError.invalid("create_channel: socket_path: \(error)")
      }
      let server: XCServer
      do {
        server = try XCServer(path: channel, table: table, policy: access.policy) { id, _ in
          handlers.connectionClosed(id)
        }
        try access.apply(to: channel)
      } catch {
        try? FileManager.default.removeItem(atPath: channel)
        throw XCDaemonError.io("create_channel: cannot listen on \(channel): \(error)")
      }
      server.start()
      logger.info("create_channel: also serving on \(channel)")
      return server
    }
    logger.info("xcd serving on \(path) (\(access.allowed)), state in \(engine.stateDir)")
    // Only now, with the socket accepting: a `Type=notify` unit counts as started from here.
    do { try ServiceNotify.send("READY=1") } catch { logger.warning("\(error)") }

    if let idleExit {
      // Counters kept in memory only: the check runs every second, so it reads no state.
      let idle = IdleWatch(limit: idleExit) {
        server.connectionCount == 0 && handlers.channels.connectionCount == 0 && engine.liveCount == 0
      }
      if let sig = idle.waitForStopSignalOrIdle() {
        logger.info("received signal \(sig): shutting down")
      } else {
        logger.info("idle for \(idleExit) with no client and no container: shutting down")
      }
    } else {
      let sig = Self.waitForStopSignal()
      logger.info("received signal \(sig): shutting down")
    }
    do { try ServiceNotify.send("STOPPING=1") } catch { logger.warning("\(error)") }
    server.stop()
    handlers.channels.closeAll()
    engine.shutdown(grace: .seconds(config.stopGraceSeconds))
    if isSocket(path) { unlink(path) }
    logger.info("xcd stopped")
  }

  /// Blocks the calling thread until SIGTERM or SIGINT arrives.
  static func waitForStopSignal() -> Int32 {
    var set = stopSignals
    var sig: Int32 = 0
    while true {
      let rc = sigwait(&set, &sig)
      if rc == 0 { return sig }
      if rc != EINTR { return SIGTERM }
    }
  }

  /// Refuses to start when a daemon answers at `path`; removes a stale socket file; refuses
  /// to replace anything that is not a socket.
  static func claimSocket(_ path: String, logger: Logger) throws {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      let dir = (path as NSString).deletingLastPathComponent
      if !dir.isEmpty && !FileManager.default.fileExists(atPath: dir) {
        throw StartError(description: "the socket's directory \(dir) does not exist")
      }
      return
    }
    guard st.st_mode & S_IFMT == S_IFSOCK else {
      throw StartError(
        description: "\(path) exists and is not a socket; remove it or choose another --socket")
    }
    let probe: Result<Socket, Errno>
    do throws(Errno) {
      probe = .success(try Socket.connect(toUnixPath: path))
    } catch {
      probe = .failure(error)
    }
    switch probe {
    case .success(let s):
      try? s.close()
      throw StartError(
        description:
          "another xcd is already serving \(path); stop it first, or give this one its own --socket"
      )
    case .failure(.connectionRefused):
      logger.info("removing stale socket \(path)")
      guard unlink(path) == 0 || errno == ENOENT else {
        throw StartError(
          description: "cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
      }
    case .failure(.noSuchFileOrDirectory):
      return
    case .failure(let error):
      throw StartError(description: "cannot check \(path): \(error)")
    }
  }
}

private func isSocket(_ path: String) -> Bool {
  var st = stat()
  return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK
}
