import Foundation
import Logging
import Synchronization
import SystemPackage
import XCEngine
import XCIPC

/// The method handlers: each maps one xc method onto the engine. Thread-safe (the server
/// runs one thread per connection); engine calls block only their own connection.
final class Handlers: Sendable {
  let engine: Engine
  let config: Config
  let logger: Logger
  /// `link`ed containers per connection: killed when that connection closes.
  let links = Mutex<[UInt64: [Link]]>([:])
  /// Extra sockets opened with `create_channel`.
  let channels = Channels()
  /// Pulls, pushes and logins (xc's registry methods).
  let registries: RegistryService

  struct Link: Sendable {
    var containerID: String
    /// The client's descriptor (a pidfd on Linux): SIGKILLed/closed when the container ends.
    var fd: FileDescriptor
  }

  init(engine: Engine, config: Config, logger: Logger) {
    self.engine = engine
    self.config = config
    self.logger = logger
    registries = RegistryService(
      engine: engine, registriesFile: config.registriesPath, logger: logger)
  }

  var grace: Duration { .seconds(config.stopGraceSeconds) }

  /// The method table: everything served, and an explicit "not implemented yet" for the rest.
  func table() -> XCMethodTable {
    var table = XCMethodTable()
    registerDaemonAndImages(&table)
    registerContainers(&table)
    registerTag(&table)
    registerStorage(&table)
    registerNetworks(&table)
    table.register(CreateChannelRequest.self) { request, context in
      try self.call(context) {
        try self.channels.open(request.socketPath)
        return EmptyResponse()
      }
    }
    registerLogs(&table)
    registerRegistry(&table)
    return table
  }

  /// Runs a handler body, turning engine failures into xc error answers and logging them.
  func call<T>(_ context: XCRequestContext, _ body: () throws -> T) throws -> T {
    logger.debug(
      "\(context.method) (connection \(context.connectionID), pid \(context.peer.pid), uid \(context.peer.uid))"
    )
    do {
      return try body()
    } catch {
      let answer = Mapping.daemonError(error, method: context.method)
      logger.notice("\(context.method) failed: errno \(answer.errno): \(answer.value.text)")
      throw answer
    }
  }

  /// xc's `info`: its configuration keys, with Linux paths where xc has ZFS datasets.
  var xcConfig: XcConfig {
    let state = engine.stateDir
    return XcConfig(
      extIfs: config.extIfs, imageDataset: config.imageDataset,
      containerDataset: config.containerDataset,
      defaultVolumeDriver: config.defaultVolumeDriver,
      defaultVolumeDataset: config.defaultVolumeDataset,
      defaultVolumeDirectory: config.defaultVolumeDirectory,
      imageDatabaseStore: config.imageDatabaseStore ?? state + "/xcd.sqlite",
      layersDir: config.layersDir ?? state + "/blobs/sha256", logsDir: config.logsDir,
      devfsIdOffset: config.devfsIdOffset,
      databaseStore: config.databaseStore ?? state + "/xcd.sqlite",
      socketPath: config.socketPath, registries: registries.table.path,
      forceDevfsRuleset: config.forceDevfsRuleset, inventory: config.inventory,
      warnOnly: config.warnOnly)
  }
}
