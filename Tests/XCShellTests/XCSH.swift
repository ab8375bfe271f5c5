import Foundation

/// Runs the built `xcsh` as a child process, as users do.
enum XCSH {
  /// `$XCSH_BIN`, else the `xcsh` built next to the test bundle.
  static var path: String {
    if let p = ProcessInfo.processInfo.environment["XCSH_BIN"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // swift-testing may run from inside the .xctest bundle directory.
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("xcsh").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return "xcsh"
  }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
  }

  /// Runs xcsh with a time limit; a hang is reported as such, never waited out.
  static func run(
    _ args: [String], stdin: String? = nil, environment: [String: String] = [:], directory: String? = nil,
    timeout: TimeInterval = 30
  ) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (k, v) in environment { env[k] = v }
    p.environment = env
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read both pipes on their own threads so a chatty child never blocks.
    let outBox = DataBox()
    let errBox = DataBox()
    let group = DispatchGroup()
    for (h, box) in [(out.fileHandleForReading, outBox), (err.fileHandleForReading, errBox)] {
      group.enter()
      DispatchQueue.global().async {
        box.data = h.readDataToEndOfFile()
        group.leave()
      }
    }
    var timedOut = false
    if group.wait(timeout: .now() + timeout) == .timedOut {
      timedOut = true
      p.terminate()
      kill(p.processIdentifier, SIGKILL)
      group.wait()
    }
    p.waitUntilExit()
    return Result(
      status: p.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self),
      stderr: String(decoding: errBox.data, as: UTF8.self), timedOut: timedOut)
  }
}

final class DataBox: @unchecked Sendable {
  var data = Data()
}
