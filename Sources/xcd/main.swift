import ArgumentParser
import Foundation
import Logging
import XCBuildInfo

// Before anything can start a thread: every thread inherits the blocked stop signals, and
// only the main thread takes them (sigwait).
Daemon.blockStopSignals()

/// The xc daemon for Linux: serves xc's IPC protocol on a UNIX socket, running containers
/// with runc from a local image store.
///
///     # xcd --socket /run/xcd-dev.sock --state-dir /tmp/xcd-dev --log-level debug
struct XCD: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xcd",
    abstract: "The xc container daemon for Linux (runc, OCI images, SQLite state).",
    discussion: """
      Serves xc's IPC protocol on a UNIX socket (mode 0660). SIGTERM or SIGINT stop it: \
      containers are stopped and cleaned up, the socket is removed, and it exits 0.
      """,
    version: BuildInfo.line("xcd"))

  @Option(
    help: "The UNIX socket to serve (default: socket_path of the config, else /var/run/xc.sock).")
  var socket: String?

  @Option(
    name: .customLong("state-dir"),
    help: "Images, containers and state (default: state_dir of the config, else /var/lib/xcd).")
  var stateDir: String?

  @Option(
    help: "An xc.conf YAML file (default: the first of \(Config.defaultPaths.joined(separator: ", ")) that exists).")
  var config: String?

  @Option(
    name: .customLong("log-level"),
    help: "trace, debug, info, notice, warning, error or critical (default: info).")
  var logLevel: String?

  @Option(
    name: .customLong("socket-group"),
    help: "Besides root, members of this group (name or gid) may use the socket (default: socket_group of the config, else root only).")
  var socketGroup: String?

  @Option(
    name: .customLong("idle-exit"),
    help: ArgumentHelp(
      "Exit after this many seconds with no client connected and no container (default: never).",
      valueName: "seconds"))
  var idleExit: Int?

  func validate() throws {
    if let idleExit, idleExit <= 0 { throw ValidationError("--idle-exit must be a positive number of seconds") }
  }

  func run() throws {
    var settings = Config()
    var unknownKeys: [String] = []
    if let path = config ?? Config.defaultPaths.first(where: { FileManager.default.fileExists(atPath: $0) }) {
      do {
        (settings, unknownKeys) = try Config.load(path: path)
      } catch {
        FileHandle.standardError.write(Data("xcd: \(error)\n".utf8))
        throw ExitCode(1)
      }
    }
    if let socket { settings.socketPath = socket }
    if let stateDir { settings.stateDir = stateDir }
    if let socketGroup { settings.socketGroup = socketGroup }
    let levelName = logLevel ?? settings.logLevel ?? "info"
    guard let level = Logger.Level(rawValue: levelName) else {
      throw ValidationError(
        "unknown log level \(levelName): use trace, debug, info, notice, warning, error or critical"
      )
    }
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    var logger = Logger(label: "xcd")
    logger.logLevel = level
    for key in unknownKeys { logger.warning("config: unknown key \(key) ignored") }
    do {
      try Daemon(config: settings, logger: logger, idleExit: idleExit.map { .seconds($0) }).run()
    } catch let e as Daemon.StartError {
      logger.critical("\(e.description)")
      throw ExitCode(1)
    }
  }
}

XCD.main()
