import XCEngine
import XCIPC

// MARK: - Copy in and out

extension Handlers {
  func registerCopy(_ table: inout XCMethodTable) {
    serve(&table, CopyInRequest.self) { request, _ in
      guard let fd = request.fd.descriptor else {
        throw XCDaemonError.invalid("xcsh.copy_in: fd carries no descriptor")
      }
      try Names.containerOrID(request.name, field: "xcsh.copy_in: name")
      try self.engine.copyIn(request.name, path: request.path, from: fd, rename: request.rename ?? false)
      return NullResponse()
    }

    serve(&table, CopyOutRequest.self) { request, _ in
      guard let fd = request.fd.descriptor else {
        throw XCDaemonError.invalid("xcsh.copy_out: fd carries no descriptor")
      }
      try Names.containerOrID(request.name, field: "xcsh.copy_out: name")
      try self.engine.copyOut(request.name, path: request.path, to: fd)
      return NullResponse()
    }
  }
}
