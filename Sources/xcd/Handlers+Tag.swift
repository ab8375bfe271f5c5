import XCEngine
import XCIPC

extension Handlers {
  /// `xcsh.tag_image`: another reference for an existing image (xcsh's `image tag`).
  func registerTag(_ table: inout XCMethodTable) {
    serve(&table, TagImageRequest.self) { request, _ in
      try self.engine.tagImage(request.imageReference, as: request.newReference)
      return NullResponse()
    }

    // `xcsh.save_image`: the image as an OCI layout tar into the caller's descriptor.
    serve(&table, SaveImageRequest.self) { request, _ in
      guard let fd = request.fd.descriptor else {
        throw XCDaemonError.invalid("xcsh.save_image: fd carries no descriptor")
      }
      try Names.imageReference(request.imageReference, field: "xcsh.save_image: image_reference")
      try self.engine.saveImage(request.imageReference, to: fd.rawValue)
      return NullResponse()
    }
  }
}
