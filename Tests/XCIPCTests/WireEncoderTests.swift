import Foundation
import Testing

@testable import XCIPC

/// A value whose `encode(to:)` writes nothing at all.
struct Silent: Encodable {
  func encode(to encoder: any Encoder) throws {}
}

/// Writes to a container after starting a later sibling, which a streaming encoder cannot do.
struct OutOfOrder: Encodable {
  enum K: String, CodingKey { case a, b, x }
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: K.self)
    var nested = c.nestedContainer(keyedBy: K.self, forKey: .a)
    try c.encode(1, forKey: .b)
    try nested.encode(2, forKey: .x)
  }
}

struct Holder<T: Encodable>: Encodable {
  var first: T
  var second: Int
}

@Suite struct WireEncoderTests {
  @Test func valuesThatWriteNothingBecomeNull() throws {
    #expect(try wire(Holder(first: Silent(), second: 2)) == #"{"first":null,"second":2}"#)
    #expect(try wire([Silent(), Silent()]) == "[null,null]")
  }

  @Test func outOfOrderWritesAreReportedNotMangled() {
    #expect(throws: EncodingError.self) { _ = try WireEncoder().encode(OutOfOrder()) }
  }

  @Test func nestedMapsAndArraysCloseInTheRightPlaces() throws {
    let v: [String: [[String: [Int]]]] = ["b": [["y": [1, 2], "x": []], [:]], "a": []]
    #expect(try wire(v) == #"{"a":[],"b":[{"x":[],"y":[1,2]},{}]}"#)
    #expect(try wire(Holder(first: ["z": 1, "a": 2], second: 3)) == #"{"first":{"a":2,"z":1},"second":3}"#)
    #expect(try wire(Holder(first: Optional<[String: Int]>.none, second: 3)) == #"{"first":null,"second":3}"#)
  }

  /// Random JSON trees: our bytes equal Foundation's with sorted keys and unescaped slashes
  /// (every object in a JSONValue is a map, so both sort), and decode back equal.
  @Test func matchesFoundationOnGeneratedTrees() throws {
    var rng = SplitMix64(seed: 7)
    func gen(_ depth: Int) -> JSONValue {
      switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
      case 0: return .null
      case 1: return .bool(Bool.random(using: &rng))
      case 2: return .integer(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng))
      case 3: return .string(["", "a/b", "é", "q\"uote", "back\\slash", "日本"].randomElement(using: &rng)!)
      case 4:
        var o: [String: JSONValue] = [:]
        for i in 0..<Int.random(in: 0...4, using: &rng) { o["k\(i)\(["", "/", "é"].randomElement(using: &rng)!)"] = gen(depth + 1) }
        return .object(o)
      default:
        return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in gen(depth + 1) })
      }
    }
    let foundation = JSONEncoder()
    foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for _ in 0..<2000 {
      let v = gen(0)
      let ours = try WireEncoder().encode(v)
      #expect(ours == Array(try foundation.encode(v)), "\(String(decoding: ours, as: UTF8.self))")
      #expect(try WireDecoder().decode(JSONValue.self, from: ours) == v)
    }
  }
}
