import XCIPC

extension Handlers {
  /// `xcsh.logs`: where a container process's output is logged (xcsh's `logs`, `wait --log`).
  /// The client reads the files itself: it runs on this host, as the socket requires.
  func registerLogs(_ table: inout XCMethodTable) {
    table.register(LogsRequest.self) { request, context in
      try self.call(context) {
        let files = try self.engine.logFiles(request.name, process: request.process)
        return LogsResponse(stdoutLogFile: files.stdout, stderrLogFile: files.stderr)
      }
    }
  }
}
