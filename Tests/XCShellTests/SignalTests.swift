import Foundation
import Testing

/// SIGTERM and SIGINT stop a script, run its defers and exit 143 and 130.
@Suite struct SignalTests {
  /// Starts a script, waits until it prints `ready`, sends `signal`, and returns (status, stdout).
  func interrupt(_ script: String, with signal: Int32) throws -> (Int32, String) {
    let dir = NSTemporaryDirectory() + "xcsh-signal-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/script.xcs"
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: XCSH.path)
    p.arguments = [path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Read until the script says it is ready: the signal must land during the wait, not before.
    var seen = Data()
    while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      seen.append(chunk)
    }
    kill(p.processIdentifier, signal)
    seen.append(out.fileHandleForReading.readDataToEndOfFile())
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: seen, as: UTF8.self))
  }

  @Test func sigtermDuringSleepRunsDefersAndExits143() throws {
    let (status, out) = try interrupt(
      """
      defer { print "outer defer" }
      fn work [] {
        defer { print "inner defer" }
        print "ready"
        sleep 30s
        print "not reached"
      }
      work
      """, with: SIGTERM)
    #expect(status == 143)
    #expect(out == "ready\ninner defer\nouter defer\n")
  }

  @Test func sigintDuringSleepExits130() throws {
    let (status, out) = try interrupt("defer { print done }\nprint ready\nsleep 30s\n", with: SIGINT)
    #expect(status == 130)
    #expect(out == "ready\ndone\n")
  }

  @Test func sigtermDuringExternalCommandIsForwarded() throws {
    let (status, out) = try interrupt("defer { print cleaned }\nprint ready\n^sleep 30\n", with: SIGTERM)
    #expect(status == 143)
    #expect(out == "ready\ncleaned\n")
  }

  @Test func tryDoesNotCatchAnInterrupt() throws {
    let (status, out) = try interrupt(
      "defer { print cleaned }\nlet r = try { print ready; sleep 30s } catch { 'caught' }\nprint $r\n", with: SIGTERM)
    #expect(status == 143)
    #expect(out == "ready\ncleaned\n")
  }
}
