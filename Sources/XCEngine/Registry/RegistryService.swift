import Foundation
import Glibc
import Logging
import Synchronization

/// Pulls, pushes and registry logins for the daemon (xc's `pull_image`/`download_stat`,
/// `push_image`/`upload_stat`, `login`), over the engine's image store.
///
///     let registries = RegistryService(engine: engine, registriesFile: "/var/lib/xcd/registries.json")
///     try registries.pull("127.0.0.1:5000/app:1")        // manifest and config fetched
///     registries.pullStatus("127.0.0.1:5000/app:1")?.state  // … .done
///
/// Transfers run on their own threads and are kept by the reference string the caller
/// gave (xc looks them up by exactly that string); a finished one is replaced by the next
/// pull or push of the same reference.
public final class RegistryService: Sendable {
  public let table: RegistryTable
  private let engine: Engine
  private let logger: Logger
  private let pulls = Mutex<[String: ImagePull]>([:])
  private let pushes = Mutex<[String: ImagePush]>([:])

  /// - Parameter registriesFile: xc's registries JSON (`registries` in xc.conf).
  public init(engine: Engine, registriesFile: String, logger: Logger? = nil) {
    self.engine = engine
    self.logger = logger ?? engine.logger
    table = RegistryTable(path: registriesFile)
  }

  /// Stores credentials for `server` (`host[:port]`), used by later pulls and pushes of
  /// references naming that host. Not verified here, as in xc.
  public func login(server: String, username: String, password: String, insecure: Bool) throws {
    try table.login(
      server: server, credentials: RegistryCredentials(username: username, password: password),
      insecure: insecure)
    logger.info("stored registry credentials", metadata: ["server": "\(server)", "user": "\(username)"])
  }

  /// Starts pulling `reference`: returns once the manifest and config are fetched (their
  /// errors are thrown, and also reported by `pullStatus`); layers follow in the background.
  /// The image is tagged `reference`, `<default registry>/<reference>` when it names no host,
  /// and `rename` if given. Returns false if a pull of `reference` was already under way
  /// (it is left to finish).
  @discardableResult
  public func pull(_ reference: String, rename: String? = nil) throws -> Bool {
    try engine.checkOpen()
    let ref = try ImageReference(parsing: reference)
    let renamed = try rename.map(ImageReference.init(parsing:))
    let endpoint = try table.endpoint(host: ref.hostname)
    var extra: [ImageReference] = []
    if ref.hostname == nil {
      var qualified = ref
      qualified.hostname = endpoint.name
      extra.append(qualified)
    }
    if let renamed, renamed != ref, !extra.contains(renamed) { extra.append(renamed) }
    let job = ImagePull(
      reference: ref, extraTags: extra, endpoint: endpoint, store: engine.imageStore, logger: logger)
    let started = pulls.withLock { table -> Bool in
      if let running = table[reference], !running.isFinished { return false }
      table[reference] = job
      return true
    }
    guard started else { return false }
    try job.prepare()
    let thread = Thread { job.run() }
    thread.name = "xcd.pull"
    thread.start()
    return true
  }

  /// The progress of the pull of `reference` (spelled as given to `pull`), nil if none.
  public func pullStatus(_ reference: String) -> PullStatus? {
    pulls.withLock { $0[reference] }?.status
  }

  /// Starts pushing the stored image `local` as `remote`, in the background. Throws
  /// `image.not_found` when there is no such local image. `insecure` speaks http to a
  /// registry that has no entry (one `login` stored decides for itself).
  public func push(_ local: String, to remote: String, insecure: Bool) throws {
    try engine.checkOpen()
    let localRef = try ImageReference(parsing: local)
    let remoteRef = try ImageReference(parsing: remote)
    let image = try engine.imageStore.pushable(localRef)
    let endpoint = try table.endpoint(host: remoteRef.hostname, insecure: insecure)
    let key = Self.pushKey(local, remote)
    let job = ImagePush(
      local: localRef, remote: remoteRef, image: image, endpoint: endpoint, store: engine.imageStore,
      logger: logger)
    let started = pushes.withLock { table -> Bool in
      if let running = table[key], !running.isFinished { return false }
      table[key] = job
      return true
    }
    guard started else { return }
    let thread = Thread { job.run() }
    thread.name = "xcd.push"
    thread.start()
  }

  /// The progress of the push of `local` to `remote` (spelled as given to `push`).
  public func pushStatus(local: String, remote: String) -> PushStatus? {
    pushes.withLock { $0[Self.pushKey(local, remote)] }?.status
  }

  /// xc keys pushes as `"<local>-><remote>"`.
  static func pushKey(_ local: String, _ remote: String) -> String { "\(local)->\(remote)" }
}
