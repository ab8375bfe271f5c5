import XCIPC

extension Handlers {
  /// Commit, volumes and copying in and out: what touches a container's files.
  func registerStorage(_ table: inout XCMethodTable) {
    registerCommit(&table)
    registerVolumes(&table)
    registerCopy(&table)
  }
}
