/// One tagged image, as xc's `ImageRecord` (one record per tag), plus the engine's own
/// facts about where its content lives.
public struct ImageRecord: Codable, Sendable, Equatable {
  /// The tag this record is listed under, e.g. `busybox:latest`.
  public var image_reference: String
  /// SHA-256 of the JailImage's compact JSON, as xc computes it (not the manifest digest).
  public var digest: String
  /// The image config, in xc's shape.
  public var manifest: JailImage
  /// The OCI manifest's digest in the blob store.
  public var manifest_digest: String
  /// The OCI ChainID of the layers; names the unpacked tree.
  public var chain_id: String
  /// The layer blobs (compressed archives) in order.
  public var layers: [String]
  /// Nanoseconds since the epoch when the image was imported.
  public var created: Int64
}
