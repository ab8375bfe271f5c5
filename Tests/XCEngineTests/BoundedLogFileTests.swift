import Foundation
import Glibc
import Testing

@testable import XCEngine

/// The cap of main's log: never over it, newest output kept from a whole line, no staging file left.
struct BoundedLogFileTests {
  func tempDir() throws -> String {
    var template = Array("/tmp/bounded-log-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw EngineError(.system, "mkdtemp failed") }
    return String(cString: p)
  }

  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<none>" }

  @Test func keepsTheNewestWholeLinesWithinTheCap() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/main.log"
    let log = try BoundedLogFile(path: path, capacity: 40)
    log.append(Array("line 1 aaaa\nline 2 bbbb\nline 3 cccc\n".utf8))  // 36 bytes
    #expect(read(path) == "line 1 aaaa\nline 2 bbbb\nline 3 cccc\n")
    log.append(Array("line 4 dddd\n".utf8))  // 48 > 40: keep the newest 20, from a line start
    #expect(read(path) == "line 3 cccc\nline 4 dddd\n")
    for i in 5...50 { log.append(Array("line \(i) xxxx\n".utf8)) }
    let text = read(path)
    #expect(text.utf8.count <= 40 && text.hasPrefix("line ") && text.hasSuffix("line 50 xxxx\n"), "\(text)")
    // One write over the cap: only its end is kept.
    log.append(Array((String(repeating: "z", count: 100) + "\nlast\n").utf8))
    #expect(read(path).utf8.count <= 40 && read(path).hasSuffix("\nlast\n"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["main.log"])
    log.close()
    log.append(Array("after close\n".utf8))
    #expect(!read(path).contains("after close"))
  }
}
