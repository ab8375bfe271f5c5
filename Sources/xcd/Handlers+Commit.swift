import SystemPackage
import XCEngine
import XCIPC

// MARK: - commit

extension Handlers {
  func registerCommit(_ table: inout XCMethodTable) {
    // xc's `commit`: the container's changes become a new layer tagged name:tag; with
    // `alt_out` the layer archive goes to that descriptor only and nothing is registered.
    table.register(CommitRequest.self) { request, context in
      try self.call(context) {
        guard !request.name.isEmpty else { throw XCDaemonError.invalid("commit: name is empty") }
        guard !request.tag.isEmpty else { throw XCDaemonError.invalid("commit: tag is empty") }
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
}
