/// The `template` of `create_volume`: a Rust tuple `(ImageReference, OsString)`, i.e. a
/// two-element array `["image:tag", {"Unix":[…]}]` naming an image and one of its mount specs.
public struct VolumeTemplate: Codable, Sendable, Hashable {
  /// The image whose mount spec gives the hints.
  public var imageReference: String
  /// The name of the mount spec in that image.
  public var mountName: OsString

  /// Creates a template reference.
  public init(imageReference: String, mountName: OsString) {
    self.imageReference = imageReference
    self.mountName = mountName
  }

  public init(from decoder: any Decoder) throws {
    var c = try decoder.unkeyedContainer()
    self.imageReference = try c.decode(String.self)
    self.mountName = try c.decode(OsString.self)
    if !c.isAtEnd {
      throw DecodingError.dataCorruptedError(
        in: c, debugDescription: "expected a two-element array")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.unkeyedContainer()
    try c.encode(imageReference)
    try c.encode(mountName)
  }
}
