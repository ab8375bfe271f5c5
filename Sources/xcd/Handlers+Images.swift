import Logging
import SystemPackage
import XCEngine
import XCIPC

// MARK: - Daemon and image methods

extension Handlers {
  func registerDaemonAndImages(_ table: inout XCMethodTable) {
    serve(&table, InfoRequest.self) { _, _ in
      InfoResponse(config: self.xcConfig, engine: .current)
    }

    serve(&table, FdImportRequest.self) { request, _ in
      try self.fdImport(request)
    }

    serve(&table, ListAllImagesRequest.self) { _, _ in
      ListAllImagesResponse(manifests: try self.engine.images().map(Mapping.imageRecord))
    }

    serve(&table, DescribeImageRequest.self) { request, _ in
      do {
        try Names.imageReference(request.imageReference, field: "describe_image: image_reference")
        return try Mapping.describe(try self.engine.describeImage(request.imageReference))
      } catch let e as EngineError where e.code == .imageNotFound {
        throw XCDaemonError.typed("ImageReferenceNotFound")  // xc's exact answer
      }
    }

    serve(&table, DescribeImagesRequest.self) { request, _ in
      try self.engine.describeImages(name: request.imageName).map(Mapping.describe)
    }

    serve(&table, RemoveImageRequest.self) { request, _ in
      try Names.imageReference(request.imageReference, field: "remove_image: image_reference")
      try self.engine.removeImage(request.imageReference)
      return NullResponse()
    }

    serve(&table, ReplaceMetaRequest.self) { request, _ in
      try Names.imageReference(request.imageReference, field: "replace_meta: image_reference")
      let config = try Mapping.jailConfig(request.config)
      return try Mapping.jailImage(
        try self.engine.replaceMeta(request.imageReference, config: config))
    }

    serve(&table, PurgeRequest.self) { _, _ in
      try self.engine.purge()
      return NullResponse()
    }
  }

  /// xc's `fd_import`: one layer plus its metadata becomes a single-layer image; answers the
  /// layer's diff id. As a Linux extension the descriptor may also hold a whole image archive
  /// (OCI layout tar or `docker save` tar): it is imported as is and tagged `image_reference`
  /// (or the archive's own name when that is empty); a `config` with entry points then
  /// replaces the image's metadata (as `replace_meta`). The answer is the top layer's diff id.
  func fdImport(_ request: FdImportRequest) throws -> String {
    guard let fd = request.fd.descriptor else {
      throw XCDaemonError.invalid("fd_import: the request carries no descriptor")
    }
    let reference = request.imageReference.isEmpty ? nil : request.imageReference
    if let reference { try Names.imageReference(reference, field: "fd_import: image_reference") }
    switch ArchiveKind.sniff(fd) {
    case .layer:
      guard let reference else {
        throw XCDaemonError.invalid(
          "fd_import: image_reference is empty; name the image (e.g. app:latest)")
      }
      let config = try Mapping.jailConfig(request.config)
      let record = try engine.importLayer(from: fd, config: config, reference: reference)
      logger.info("imported layer as \(record.image_reference)")
      return record.manifest.rootfs.diff_ids.first ?? record.digest
    case .image:
      var records = try engine.importImage(from: fd, reference: reference)
      if !request.config.entryPoints.isEmpty, let first = records.first {
        let config = try Mapping.jailConfig(request.config)
        _ = try engine.replaceMeta(first.image_reference, config: config)
        records = [try engine.describeImage(first.image_reference)]
      }
      guard let record = records.first else {
        throw XCDaemonError.invalid("fd_import: the archive holds no image")
      }
      logger.info(
        "imported image archive as \(records.map(\.image_reference).joined(separator: ", "))")
      return record.manifest.rootfs.diff_ids.last ?? record.digest
    }
  }
}
