/// Where everything lives under the engine's state directory.
///
///     <state>/xcd.sqlite              images, tags, containers
///     <state>/blobs/sha256/<hex>      OCI blobs (manifests, configs, layer archives), verified
///     <state>/images/<chain hex>/     each image unpacked once: the read-only lower tree
///     <state>/containers/<id>/        bundle: config.json, rootfs (overlay mount), upper, work
///     <state>/bin/xc-init             the containers' PID 1, bind-mounted read-only into each
///     <state>/runc/                   runc --root: runc's own state, private to this engine
///     <state>/tmp/                    staging for imports and unpacks
///     <state>/teardown/<id>.json      teardowns that did not complete, for the next start
public struct StateLayout: Sendable {
  public let root: String

  public init(root: String) {
    var root = root
    while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
    self.root = root
  }

  public var database: String { root + "/xcd.sqlite" }
  public var blobs: String { root + "/blobs/sha256" }
  public var images: String { root + "/images" }
  public var containers: String { root + "/containers" }
  public var runc: String { root + "/runc" }
  public var tmp: String { root + "/tmp" }
  public var bin: String { root + "/bin" }
  public var initBinary: String { bin + "/xc-init" }
  var teardown: String { root + "/teardown" }
  /// Ended containers' records and logs (`EndedContainers`).
  var ended: String { root + "/ended" }
  func pendingTeardown(_ id: String) -> String { teardown + "/" + id + ".json" }

  func blob(_ digest: String) -> String { blobs + "/" + Digest.hex(digest) }
  func imageTree(chainID: String) -> String { images + "/" + Digest.hex(chainID) }
  func container(_ id: String) -> String { containers + "/" + id }

  func create() throws {
    for dir in [root, blobs, images, containers, runc, tmp, bin] {
      try FileSystem.makeDirectories(dir, mode: 0o700)
    }
  }
}
