import Foundation

extension Engine {
  /// The log files of a container's process (`main`, or an exec id), for xcsh's `xcsh.logs`
  /// (see `MainLogs.files`).
  public func logFiles(_ name: String, process: String) throws -> (stdout: String?, stderr: String?) {
    let (record, dead) = try container(name)
    return try MainLogs.files(of: record, dead: dead, name: name, process: process)
  }
}
