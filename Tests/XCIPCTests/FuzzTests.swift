import Foundation
import Testing
import XCSystem

@testable import XCIPC

/// Runs the frame decoder and the server's envelope handling over generated inputs with a
/// fixed seed. Nothing may crash; every outcome must be one of the documented ones.
@Suite struct FuzzTests {
  static let seeds: [[UInt8]] = {
    var out: [[UInt8]] = []
    for name in (try? Snapshot.names("requests")) ?? [] {
      if let b = try? Snapshot.bytes("requests/\(name).json") { out.append(b) }
    }
    return out
  }()

  static let fragments: [String] = [
    "{", "}", "[", "]", ",", ":", "null", "true", "false", "0", "-1", "1e400", "\"\\u0000\"",
    "\"method\"", "\"value\"", "\"info\"", "\"exec\"", "\"instantiate\"", "\"\\ud800\"", "{}",
    "[]", "\"Unix\"", "\"type\"", "\"Forward\"", "18446744073709551616", "1.5", "\"",
  ]

  static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
      switch Int.random(in: 0..<5, using: &rng) {
      case 0 where !b.isEmpty:
        b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      case 1 where !b.isEmpty: b.remove(at: Int.random(in: 0..<b.count, using: &rng))
      case 2:
        let f = fragments.randomElement(using: &rng)!
        b.insert(contentsOf: Array(f.utf8), at: Int.random(in: 0...b.count, using: &rng))
      case 3 where b.count > 2: b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
      default:
        let f = fragments.randomElement(using: &rng)!
        b.append(contentsOf: Array(f.utf8))
      }
    }
    return b
  }

  static func randomStream(_ rng: inout SplitMix64) -> [UInt8] {
    switch Int.random(in: 0..<6, using: &rng) {
    case 0:  // pure noise
      return (0..<Int.random(in: 0..<48, using: &rng)).map { _ in
        UInt8.random(in: 0...255, using: &rng)
      }
    case 1:  // a header with random (often lying) numbers and a short body
      let h = FrameHeader(
        bodyLength: [
          UInt64.random(in: 0...64, using: &rng), .max, 1 << 40,
          UInt64.random(in: 0...UInt64.max, using: &rng),
        ].randomElement(using: &rng)!,
        descriptorCount: [0, 1, 64, 65, UInt64.random(in: 0...UInt64.max, using: &rng)]
          .randomElement(using: &rng)!)
      return h.bytes
        + (0..<Int.random(in: 0..<32, using: &rng)).map { _ in
          UInt8.random(in: 0...255, using: &rng)
        }
    case 2:  // a valid request, framed, possibly cut short
      let body = seeds.randomElement(using: &rng)!
      let f = frameBytes(body)
      return Bool.random(using: &rng)
        ? f : Array(f.prefix(Int.random(in: 0...f.count, using: &rng)))
    default:  // a mutated request, framed with its true length
      return frameBytes(mutate(seeds.randomElement(using: &rng)!, &rng))
    }
  }

  @Test func decoderSurvivesGeneratedInputs() throws {
    let table = fullTable()
    let limits = FrameLimits(maxBodyLength: 1 << 20)
    var rng = SplitMix64(seed: 0x5EED_1234)
    var counts = [String: Int]()
    let peer = PeerCredentials.current
    let iterations = 100_000
    for _ in 0..<iterations {
      let stream = Self.randomStream(&rng)
      let outcome: FrameDecoder.Outcome
      do {
        outcome = try FrameDecoder.decode(stream, limits: limits)
      } catch {
        #expect(error.code == .protocolViolation)
        counts["rejected header", default: 0] += 1
        continue
      }
      switch outcome {
      case .needMore(let total):
        #expect(total > stream.count)
        #expect(total <= FrameHeader.size + limits.maxBodyLength)
        counts["incomplete", default: 0] += 1
      case .frame(let d):
        #expect(d.consumed <= stream.count)
        let frame = Frame(body: Array(stream[d.bodyRange]), descriptors: ReceivedDescriptors([]))
        guard let answer = XCServer.answer(frame, table: table, peer: peer, connectionID: 1) else {
          counts["closed", default: 0] += 1
          continue
        }
        // Every answer is a well-formed response envelope.
        let reply = try Envelope.decodeResponse(JSONValue.self, from: answer)
        switch reply {
        case .success: counts["success", default: 0] += 1
        case .failure(let e):
          #expect([2, 5, 22].contains(e.errno), "unexpected errno \(e.errno)")
          counts["errno \(e.errno)", default: 0] += 1
        }
      }
    }
    #expect(counts.values.reduce(0, +) == iterations)
    // The generator reaches every branch.
    for key in ["rejected header", "incomplete", "closed", "errno 2", "errno 5", "errno 22"] {
      #expect(counts[key, default: 0] > 100, "\(key): \(counts)")
    }
  }
}
