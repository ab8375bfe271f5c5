import XCEngine
import XCIPC

// MARK: - Copy in and out

extension Handlers {
  func registerCopy(_ table: inout XCMethodTable) {
    table.register(CopyInRequest.self) { request, context in
      try self.call(context) {
        guard let fd = request.fd.descriptor else {
          throw XCDaemonError.invalid("xcsh.copy_in: fd carries no descriptor")
        }
        try self.engine.copyIn(request.name, path: request.path, from: fd)
        return NullResponse()
      }
    }

    table.register(CopyOutRequest.self) { request, context in
      try self.call(context) {
        guard let fd = request.fd.descriptor else {
          throw XCDaemonError.invalid("xcsh.copy_out: fd carries no descriptor")
        }
        try self.engine.copyOut(request.name, path: request.path, to: fd)
        return NullResponse()
      }
    }
  }
}
