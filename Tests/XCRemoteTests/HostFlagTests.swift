import Foundation
import Testing

/// `xcsh --host` and `$XC_HOST` as the executable reads them (no ssh is started).
@Suite struct HostFlagTests {
  func xcsh(_ args: [String], env extra: [String: String] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: builtBinary("xcsh"))
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["XC_HOST"] = nil
    for (k, v) in extra { env[k] = v }
    p.environment = env
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
  }

  @Test func aBadHostIsAUsageError() throws {
    let (status, err) = try xcsh(["--host", "web1:22", "-c", "ps"])
    #expect(status == 2)
    #expect(err.contains("--host: invalid host `web1:22`: a remote host is written ssh://[user@]host[:port][/socket/path]"), "\(err)")
  }

  @Test func xcHostIsNamedWhenItIsTheBadOne() throws {
    let (status, err) = try xcsh(["-c", "ps"], env: ["XC_HOST": "ssh://web1:99999"])
    #expect(status == 2)
    #expect(err.contains("$XC_HOST: invalid host `ssh://web1:99999`: the port must be a number from 1 to 65535"), "\(err)")
  }

  @Test func socketAndHostExcludeEachOther() throws {
    let (status, err) = try xcsh(["--socket", "/tmp/x.sock", "--host", "ssh://web1", "-c", "ps"])
    #expect(status == 2)
    #expect(err.contains("--socket and --host both name a daemon"), "\(err)")
  }
}
