import Foundation
import Testing

@testable import XCShell

/// An evaluator with redirections turned off (the fuzzer's) opens no file. (Redirections that
/// work are golden cases: they run in their own process, since they point its stdout at a file.)
@Suite struct RedirectionTests {
  @Test func turnedOffRedirectionsWriteNothing() throws {
    let path = NSTemporaryDirectory() + "xcsh-redirect-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: path) }
    let shell = Shell(options: ShellOptions())
    shell.evaluator.allowsRedirections = false
    let source = SourceMap.shared.add(name: "off.xcs", text: "echo hi > \(path)")
    let status = shell.runScript(source)
    #expect(status == 1)
    #expect(!FileManager.default.fileExists(atPath: path))
  }
}
