import Foundation
import Glibc
import Synchronization
import Testing

@testable import XCEngine

/// LayerFeed's in-process gzip path: output buffered in 256 KiB blocks must reach the
/// unpacking side whole (across members and odd input chunkings), and a truncated stream
/// must be reported.
@Suite("Layer feed")
struct LayerFeedTests {
  func tempDir() throws -> String {
    let dir = "/tmp/xcengine-feed-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileSystem.makeDirectories(dir, mode: 0o700)
    return dir
  }

  /// `bytes` gzip'd by gzip(1), one member.
  func gzip(_ bytes: [UInt8], in dir: String) throws -> [UInt8] {
    let path = dir + "/in-\(UUID().uuidString.prefix(8))"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-c", "-1", path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    return [UInt8](data)
  }

  /// Feeds `input` in chunks of `chunk` bytes; returns what the unpacking side read and the
  /// decompression error, if any.
  func run(_ input: [UInt8], chunk: Int, scratch: String) throws -> ([UInt8], EngineError?) {
    let feed = LayerFeed(scratch: scratch)
    let received = Mutex<[UInt8]>([])
    let done = DispatchSemaphore(value: 0)
    let reader = Thread {
      if let fd = feed.waitSource() {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
          let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
          if n <= 0 { break }
          out.append(contentsOf: buffer[0..<n])
        }
        received.withLock { $0 = out }
      }
      done.signal()
    }
    reader.start()
    try input.withUnsafeBytes { all in
      var offset = 0
      while offset < all.count {
        let n = min(chunk, all.count - offset)
        try feed.write(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)]))
        offset += n
      }
    }
    feed.finishInput()
    done.wait()
    try feed.finishOutput(check: true)
    return (received.withLock { $0 }, feed.decompressError)
  }

  @Test func multiMemberGzipArrivesWholeWhateverTheChunking() throws {
    let dir = try tempDir()
    defer { try? FileSystem.removeTree(dir) }
    var rng = SystemRandomNumberGenerator()
    let first = (0..<(700 << 10) + 13).map { _ in UInt8.random(in: 0...255, using: &rng) }
    let second = (0..<(300 << 10) + 5).map { UInt8(truncatingIfNeeded: $0 % 251) }
    let tiny: [UInt8] = Array("end".utf8)
    let input = try gzip(first, in: dir) + gzip(second, in: dir) + gzip(tiny, in: dir)
    for chunk in [3, 7001, 16 << 10, 1 << 20] {
      let (out, error) = try run(input, chunk: chunk, scratch: dir)
      #expect(error == nil, "chunk \(chunk)")
      #expect(out.count == first.count + second.count + tiny.count, "chunk \(chunk)")
      #expect(out == first + second + tiny, "chunk \(chunk)")
    }
  }

  @Test func truncatedGzipIsReported() throws {
    let dir = try tempDir()
    defer { try? FileSystem.removeTree(dir) }
    let data = (0..<(600 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
    let input = try gzip(data, in: dir)
    let (out, error) = try run(Array(input.dropLast(20)), chunk: 16 << 10, scratch: dir)
    #expect(error != nil)
    #expect(error?.message.contains("not valid gzip") == true)
    #expect(out.count < data.count)
  }
}
