import Glibc

extension Engine {
  /// Adds `newReference` to the image `reference` names (the extension `xcsh.tag_image`; xc
  /// tags only through pull and commit). Re-points `newReference` if it was taken.
  public func tagImage(_ reference: String, as newReference: String) throws {
    try checkOpen()
    let record = try imageStore.resolve(ImageReference(parsing: reference))
    let new = try ImageReference(parsing: newReference)
    guard let tag = new.tag else {
      throw EngineError(.badReference, "a new reference needs a tag, not a digest: \(newReference)", errno: .invalidArgument)
    }
    var tagged = record
    tagged.image_reference = new.description
    try state.saveImage(tagged, repository: new.repository, tag: tag)
  }
}
