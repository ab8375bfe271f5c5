import Foundation
import Testing

@testable import XCIPC

@Suite struct WireDecoderTests {
  func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try WireDecoder().decode(type, from: Array(json.utf8))
  }

  @Test(arguments: [
    "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[1 2]", "01", "-", "1.", "1e", ".5", "+1",
    "tru", "nul", "\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\u{1}b\"",
    "1 2", "{} x", "[\"a\"]]", "{1:2}", "NaN", "Infinity",
  ])
  func malformedJSONIsRejectedAtTheRoot(_ json: String) {
    do {
      _ = try decode(JSONValue.self, json)
      Issue.record("accepted \(json.debugDescription)")
    } catch DecodingError.dataCorrupted(let ctx) {
      #expect(ctx.codingPath.isEmpty)
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  @Test func invalidUTF8IsRejected() {
    #expect(throws: DecodingError.self) {
      _ = try WireDecoder().decode(String.self, from: [0x22, 0xFF, 0xFE, 0x22])
    }
  }

  @Test func nestingIsCapped() throws {
    let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
    _ = try decode(JSONValue.self, ok)
    let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
    #expect(throws: DecodingError.self) { _ = try decode(JSONValue.self, deep) }
  }

  @Test func stringsAndEscapes() throws {
    #expect(try decode(String.self, #""a\"b\\c\/d\b\f\n\r\t""#) == "a\"b\\c/d\u{8}\u{c}\n\r\t")
    #expect(try decode(String.self, #""\u00e9\u65e5\ud83d\ude00""#) == "é日😀")
    #expect(try decode(String.self, "\"é日\"") == "é日")
  }

  @Test func integersAreStrict() throws {
    #expect(try decode(Int.self, "-42") == -42)
    #expect(try decode(UInt64.self, "18446744073709551615") == .max)
    #expect(throws: DecodingError.self) { _ = try decode(Int.self, "1.0") }
    #expect(throws: DecodingError.self) { _ = try decode(UInt8.self, "256") }
    #expect(throws: DecodingError.self) { _ = try decode(Int.self, "\"1\"") }
    #expect(try decode(Double.self, "1.5e3") == 1500)
    #expect(try decode(Double.self, "2") == 2)
  }

  @Test func typeErrorsCarryThePath() throws {
    do {
      _ = try decode(ShowContainerRequest.self, #"{"id":[1]}"#)
      Issue.record("accepted")
    } catch DecodingError.typeMismatch(_, let ctx) {
      #expect(ctx.codingPath.map(\.stringValue) == ["id"])
    }
    do {
      _ = try decode(
        [IpAssign].self, #"[{"network":null,"addresses":["a"],"interface":"x"},{"addresses":[1]}]"#)
      Issue.record("accepted")
    } catch DecodingError.typeMismatch(_, let ctx) {
      #expect(
        ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == [
          "1", "addresses", "0",
        ])
    }
    do {
      _ = try decode(SpawnInfo.self, #"{"pid":null}"#)
      Issue.record("accepted")
    } catch DecodingError.valueNotFound(_, let ctx) {
      #expect(ctx.codingPath.map(\.stringValue) == ["pid"])
    }
  }

  @Test func repeatedKeysTakeTheLastValueAndUnknownKeysAreIgnored() throws {
    let r = try decode(ShowContainerRequest.self, #"{"id":"a","x":{"y":[1,{}]},"id":"b"}"#)
    #expect(r.id == "b")
  }

  /// On valid documents the two decoders agree.
  @Test func agreesWithFoundationOnGeneratedDocuments() throws {
    var rng = SplitMix64(seed: 42)
    func gen(_ depth: Int) -> String {
      switch Int.random(in: 0..<(depth > 3 ? 4 : 7), using: &rng) {
      case 0: return "null"
      case 1: return Bool.random(using: &rng) ? "true" : "false"
      case 2: return String(Int.random(in: -1_000_000...1_000_000, using: &rng))
      case 3: return "\"s\\n\\u00e9\(Int.random(in: 0...99, using: &rng))\""
      case 4, 5:
        return "{"
          + (0..<Int.random(in: 0...3, using: &rng)).map { "\"k\($0)\":\(gen(depth + 1))" }.joined(
            separator: ",") + "}"
      default:
        return "["
          + (0..<Int.random(in: 0...3, using: &rng)).map { _ in gen(depth + 1) }.joined(
            separator: ",") + "]"
      }
    }
    for _ in 0..<2000 {
      let doc = gen(0)
      let mine = try decode(JSONValue.self, doc)
      let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(doc.utf8))
      #expect(mine == theirs, "\(doc)")
    }
  }
}
