import Foundation
import Glibc
import Testing
import XCSystem

@testable import XCEngine

/// Main's log as records: lines cut per stream, stamped in strictly increasing time order,
/// long lines in pieces, the unterminated end flushed, the header kept through a trim.
struct RecordLogTests {
  func tempDir() throws -> String {
    var template = Array("/tmp/record-log-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw EngineError(.system, "mkdtemp failed") }
    return String(cString: p)
  }

  func records(_ path: String) throws -> [LogRecord] {
    let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
    #expect(LogRecordFile.isRecordLog(bytes))
    let (records, rest) = LogRecordFile.records(bytes)
    #expect(rest.isEmpty)
    return records
  }

  @Test func aRecordRoundTripsWithAnyBytes() {
    let bytes: [UInt8] = Array("caf\u{e9} ".utf8) + [0xFF, 0x00, 0x0D]
    for r in [
      LogRecord(time: 1_796_551_200_123_456_789, stream: .stderr, line: bytes),
      LogRecord(time: 0, stream: .stdout, partial: true, line: []),
    ] {
      let line = r.encoded()
      #expect(line.last == 0x0A && line.filter { $0 == 0x0A }.count == 1)
      #expect(LogRecord.decode(line.dropLast()) == r)
    }
    #expect(
      String(decoding: LogRecord(time: 1_796_551_200_000_000_001, stream: .stdout, line: Array("x".utf8)).encoded(), as: UTF8.self)
        == "2026-12-06T10:00:00.000000001Z stdout F x\n")
    // Not records: no time, an unknown stream or tag, a bad date.
    for bad in ["x", "2026-12-06T10:00:00.000000001Z stdin F x", "2026-12-06T10:00:00.000000001Z stdout X x", "2026-13-06T10:00:00.000000001Z stdout F x"] {
      #expect(LogRecord.decode(Array(bad.utf8)[...]) == nil, "\(bad)")
    }
  }

  @Test func linesAreCutPerStreamAndStampedInOrder() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/main.log"
    // A clock that stands still: times still increase, one nanosecond a record.
    let log = RecordLog(file: try BoundedLogFile(path: path, header: LogRecordFile.header), now: { 1000 })
    log.append(.stdout, Array("he".utf8))
    log.append(.stderr, Array("oops\nagain".utf8))
    log.append(.stdout, Array("llo\nworld\n".utf8))
    log.append(.stdout, Array("no newline".utf8))
    log.close()
    let got = try records(path)
    #expect(got.map { String(decoding: $0.line, as: UTF8.self) } == ["oops", "hello", "world", "no newline", "again"])
    #expect(got.map(\.stream) == [.stderr, .stdout, .stdout, .stdout, .stderr])
    #expect(got.map(\.partial) == [false, false, false, true, true])
    #expect(got.map(\.time) == [1000, 1001, 1002, 1003, 1004])
  }

  @Test func aLongLineIsWrittenInPieces() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/main.log"
    let log = try RecordLog(path: path)
    let long = [UInt8](repeating: UInt8(ascii: "a"), count: RecordLog.maxLine * 2 + 10)
    log.append(.stdout, long + [0x0A])
    log.close()
    let got = try records(path)
    #expect(got.map(\.line.count) == [RecordLog.maxLine, RecordLog.maxLine, 10])
    #expect(got.map(\.partial) == [true, true, false])
  }

  @Test func aTrimKeepsTheHeaderAndWholeRecords() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/main.log"
    let log = try RecordLog(path: path, capacity: 4096)
    for i in 0..<500 { log.append(i % 2 == 0 ? .stdout : .stderr, Array("line \(i)\n".utf8)) }
    log.close()
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    #expect(size <= 4096)
    let got = try records(path)
    #expect(got.count > 20 && String(decoding: got.last!.line, as: UTF8.self) == "line 499")
    #expect(zip(got, got.dropFirst()).allSatisfy { $0.time < $1.time })
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["main.log"])
  }

  @Test func writersOnTwoThreadsKeepTimeOrder() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/main.log"
    let log = try RecordLog(path: path)
    DispatchQueue.concurrentPerform(iterations: 2) { n in
      for i in 0..<200 { log.append(n == 0 ? .stdout : .stderr, Array("\(n)-\(i)\n".utf8)) }
    }
    log.close()
    let got = try records(path)
    #expect(got.count == 400)
    #expect(zip(got, got.dropFirst()).allSatisfy { $0.time < $1.time })
    #expect(got.filter { $0.stream == .stderr }.map { String(decoding: $0.line, as: UTF8.self) } == (0..<200).map { "1-\($0)" })
  }
}
