import XCIPC

extension Handlers {
  /// `xcsh.logs`: where a container process's output is logged (xcsh's `logs`, `wait --log`).
  /// The client reads the files itself: it runs on this host, as the socket requires.
  func registerLogs(_ table: inout XCMethodTable) {
    serve(&table, LogsRequest.self) { request, _ in
      let files = try self.engine.logFiles(request.name, process: request.process)
      return LogsResponse(stdoutLogFile: files.stdout, stderrLogFile: files.stderr)
    }
  }
}
