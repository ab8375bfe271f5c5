import XCIPC

extension Handlers {
  /// `xcsh.tag_image`: another reference for an existing image (xcsh's `image tag`).
  func registerTag(_ table: inout XCMethodTable) {
    serve(&table, TagImageRequest.self) { request, _ in
      try self.engine.tagImage(request.imageReference, as: request.newReference)
      return NullResponse()
    }
  }
}
