import Foundation
import SystemPackage
import Testing
import XCSystem

@testable import XCIPC

/// A directory under the system temp dir, removed by `remove()`.
struct TempDir {
  let path: String
  init() throws {
    path =
      FileManager.default.temporaryDirectory
      .appendingPathComponent("xcipc-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Golden files under Snapshots/.
enum Snapshot {
  static func url(_ relative: String) throws -> URL {
    let base = try #require(Bundle.module.url(forResource: "Snapshots", withExtension: nil))
    return base.appendingPathComponent(relative)
  }

  /// The file's bytes without the trailing newline (files are one compact JSON line).
  static func bytes(_ relative: String) throws -> [UInt8] {
    var b = Array(try Data(contentsOf: url(relative)))
    while b.last == UInt8(ascii: "\n") { b.removeLast() }
    return b
  }

  static func string(_ relative: String) throws -> String {
    String(decoding: try bytes(relative), as: UTF8.self)
  }

  static func names(_ dir: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url(dir).path)
      .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }
}

/// The JSON of `value` as WireEncoder writes it.
func wire<T: Encodable>(_ value: T) throws -> String {
  String(decoding: try WireEncoder().encode(value), as: UTF8.self)
}

/// Encodes with WireEncoder, decodes with both WireDecoder and Foundation's JSONDecoder (a
/// cross-check of the two), and checks equality and that re-encoding gives the same bytes.
func expectRoundTrip<T: Codable & Equatable>(
  _ value: T, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let bytes = try WireEncoder().encode(value)
  let back = try WireDecoder().decode(T.self, from: bytes)
  #expect(back == value, sourceLocation: sourceLocation)
  #expect(
    try JSONDecoder().decode(T.self, from: Data(bytes)) == value, sourceLocation: sourceLocation)
  #expect(try WireEncoder().encode(back) == bytes, sourceLocation: sourceLocation)
}

/// A server on a temp socket with `table`; `body` runs with its path, then it is stopped.
func withServer<R>(
  _ table: XCMethodTable, limits: FrameLimits = .default,
  _ body: (String, XCServer) throws -> R
) throws -> R {
  let dir = try TempDir()
  defer { dir.remove() }
  let path = dir.path + "/xc.sock"
  let server = try XCServer(path: path, table: table, limits: limits)
  server.start()
  defer { server.stop() }
  return try body(path, server)
}

/// Writes raw bytes on a socket.
func sendRaw(_ s: Socket, _ bytes: [UInt8], passing fds: [FileDescriptor] = []) throws {
  try bytes.withUnsafeBytes { try s.sendAll($0, passing: fds) }
}

/// A frame's bytes: header plus body.
func frameBytes(_ body: [UInt8], fds: Int = 0) -> [UInt8] {
  FrameHeader(bodyLength: UInt64(body.count), descriptorCount: UInt64(fds)).bytes + body
}

/// A deterministic PRNG (SplitMix64) for randomized tests.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
