/// `xcsh.tag_image`: give an existing image another reference (xc can only tag through `pull`'s
/// rename or `commit`). A Linux-daemon extension; xc's daemon answers errno 2.
public struct TagImageRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.tag_image"
  /// The image to tag.
  public var imageReference: String
  /// The reference to add.
  public var newReference: String

  /// Creates the request.
  public init(imageReference: String, newReference: String) {
    self.imageReference = imageReference
    self.newReference = newReference
  }

  enum CodingKeys: String, CodingKey {
    case imageReference = "image_reference"
    case newReference = "new_reference"
  }
}
