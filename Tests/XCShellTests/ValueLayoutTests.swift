import Testing

@testable import XCShell

/// Every variable read, bound argument and stream item copies a `Value`: its size and what a
/// copy retains are what the interpreter's speed rests on (issue 14). A payload added to
/// `Value.Kind` bigger than a word must be boxed, as strings and objects are.
@Suite struct ValueLayoutTests {
  @Test func aValueIsAKindAndASpanInThreeWords() {
    #expect(MemoryLayout<Value>.size <= 24)
    #expect(MemoryLayout<Value.Kind>.size <= 9)
    #expect(MemoryLayout<Record>.size == MemoryLayout<Int>.size)
  }

  /// A record is copied on write: a copy's change leaves the original (and other copies) alone,
  /// and a record no one else holds is changed without copying its storage.
  @Test func recordsAreCopiedOnWrite() {
    let a = Record([("n", .int(1)), ("s", .string("x"))])
    var b = a
    b["n"] = .int(2)
    b["t"] = .bool(true)
    #expect(a["n"] == .int(1) && a["t"] == nil && a.keys == ["n", "s"])
    #expect(b["n"] == .int(2) && b.keys == ["n", "s", "t"])
    var c = b
    c["s"] = nil
    #expect(c.keys == ["n", "t"] && b.keys == ["n", "s", "t"])
    #expect(Record() == Record([]) && Record().isEmpty)
  }

  /// Records built by one literal share their keys array; changing one's field keeps sharing the
  /// keys, and adding a field gives that record its own.
  @Test func recordsOfOneLiteralShareTheirKeys() throws {
    let shell = Shell(options: ShellOptions())
    let rows = try shell.evaluate(Source(name: "rows.xcs", text: "0..<3 | each {|i| {id: $i, key: ($i * 2)}}"))
    guard case .list(let items) = rows.kind, items.count == 3,
      case .record(let r0) = items[0].kind, case .record(let r1) = items[1].kind
    else {
      Issue.record("not a list of three records: \(rows)")
      return
    }
    r0.keys.withUnsafeBufferPointer { k0 in
      r1.keys.withUnsafeBufferPointer { k1 in #expect(k0.baseAddress == k1.baseAddress) }
    }
    #expect(r1["key"] == .int(2))
  }
}
