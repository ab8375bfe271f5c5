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
    serve(&table, CreateChannelRequest.self) { request, _ in
      try self.channels.open(request.socketPath)
      return EmptyResponse()
    }
    registerLogs(&table)
    registerRegistry(&table)
    return table
  }

  /// Registers `body` as the handler of `R`: the one place where a handler is logged and
  /// where its engine failures become xc error answers (`Mapping.daemonError`).
  func serve<R: XCRequest>(
    _ table: inout XCMethodTable, _ type: R.Type,
    _ body: @escaping @Sendable (R, XCRequestContext) throws -> R.Response
  ) {
    table.register(type) { [self] request, context in
      logger.debug(
        "\(context.method) (connection \(context.connectionID), pid \(context.peer.pid), uid \(context.peer.uid))"
      )
      do {
        return try body(request, context)
      } catch {
        let answer = Mapping.daemonError(error, method: context.method)
        logger.notice("\(context.method) failed: errno \(answer.errno): \(answer.value.text)")
        throw answer
      }
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
