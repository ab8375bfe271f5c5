import SystemPackage
import XCEngine
import XCIPC

// MARK: - commit

extension Handlers {
  func registerCommit(_ table: inout XCMethodTable) {
    // xc's `commit`: the container's changes become a new layer tagged name:tag; with
    // `alt_out` the layer archive goes to that descriptor only and nothing is registered.
    serve(&table, CommitRequest.self) { request, _ in
      guard !request.name.isEmpty else { throw XCDaemonError.invalid("commit: name is empty") }
      guard !request.tag.isEmpty else { throw XCDaemonError.invalid("commit: tag is empty") }
      try Names.containerOrID(request.containerName, field: "commit: container_name")
      try Names.tag(request.tag, field: "commit: tag")
      try Names.imageReference("\(request.name):\(request.tag)", field: "commit: name")
      if let ref = request.altOut {
        guard let fd = ref.descriptor else {
          throw XCDaemonError.invalid("commit: alt_out carries no descriptor")
        }
        let diffID = try self.engine.commitLayer(request.containerName, to: fd)
        self.logger.info("committed \(request.containerName) to alt_out (\(diffID))")
        return CommitResponse(commitId: diffID)
      }
      let (diffID, image) = try self.engine.commit(
        request.containerName, as: "\(request.name):\(request.tag)")
      self.logger.info("committed \(request.containerName) as \(image.image_reference)")
      return CommitResponse(commitId: diffID)
    }
  }
}
