import SystemPackage

/// Encodes `Encodable` values as the compact JSON serde_json writes, and collects the
/// descriptors that `FDRef` fields reference.
///
/// Foundation's `JSONEncoder` cannot be used for requests: it orders keys by hash (or sorts
/// them), omits `nil` optionals and escapes `/`. serde writes struct fields in declaration
/// order, `null` for `None`, and escapes only `"`, `\` and control characters. This encoder
/// does the same. Keys of `[String: T]` maps are sorted so output is deterministic (serde's
/// HashMap order is arbitrary, so any order is valid).
///
/// It streams: bytes are written as values arrive, with no intermediate tree. That relies on
/// `encode(to:)` implementations finishing one member before starting the next, which
/// synthesized conformances and every type in this module do; writing to a container after a
/// later sibling was started is reported as an `EncodingError`.
public struct WireEncoder {
  /// Creates an encoder.
  public init() {}

  /// Encodes `value`; descriptors referenced by `FDRef` fields are appended to `descriptors`
  /// and their indices written into the JSON.
  public func encode<T: Encodable>(
    _ value: T, descriptors: inout [FileDescriptor]
  ) throws -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(128)
    try encode(value, into: &out, descriptors: &descriptors)
    return out
  }

  /// Appends `value`'s JSON to `out` (used to build envelopes without a wrapper struct).
  func encode<T: Encodable>(
    _ value: T, into out: inout [UInt8], descriptors: inout [FileDescriptor]
  ) throws {
    let sink = WireSink(out: out, descriptors: descriptors)
    out = []  // hand the storage to the sink so appends do not copy it
    defer {
      out = sink.out
      descriptors = sink.descriptors
    }
    try sink.encodeValue(value, depth: 0, codingPath: [], key: nil)
    sink.unwind(to: 0)
    if let failure = sink.failure { throw failure }
  }

  /// Encodes `value` when it carries no descriptors (or they are not wanted).
  public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
    var fds: [FileDescriptor] = []
    return try encode(value, descriptors: &fds)
  }
}

/// The output of one encoding pass and the stack of containers still open in it.
final class WireSink {
  struct Level {
    /// Identifies the container owning this level (to detect writes to a closed one).
    var id: Int
    /// The value slot that opened it (a second request for a container reuses it).
    var slot: Int
    /// `}` or `]`.
    var close: UInt8
    /// Members written so far (for commas).
    var count = 0
    /// For `[String: T]` maps: finished members, written sorted when the map closes.
    var entries: [(key: String, json: [UInt8])]?
  }

  var out: [UInt8]
  var descriptors: [FileDescriptor]
  var levels: [Level] = []
  var nextID = 0
  var failure: EncodingError?

  init(out: [UInt8], descriptors: [FileDescriptor]) {
    self.out = out
    self.descriptors = descriptors
  }

  func newID() -> Int {
    nextID += 1
    return nextID
  }

  /// Closes every container deeper than `depth`: they are complete once an ancestor writes.
  func unwind(to depth: Int) {
    while levels.count > depth {
      let level = levels.removeLast()
      if let entries = level.entries {
        out.append(UInt8(ascii: "{"))
        for (n, e) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
          if n > 0 { out.append(UInt8(ascii: ",")) }
          WireSink.writeString(e.key, to: &out)
          out.append(UInt8(ascii: ":"))
          out.append(contentsOf: e.json)
        }
        out.append(UInt8(ascii: "}"))
      } else {
        out.append(level.close)
      }
    }
  }

  /// Whether the container `id` at `index` is still open; records a failure if not.
  func isOpen(_ index: Int, _ id: Int, _ path: [any CodingKey]) -> Bool {
    if index < levels.count && levels[index].id == id { return true }
    if failure == nil {
      failure = .invalidValue(
        (), .init(codingPath: path, debugDescription: "write to a container after a later sibling was started"))
    }
    return false
  }

  /// Starts a member of the container at `index`: closes deeper containers, writes the comma.
  func beginMember(_ index: Int) {
    unwind(to: index + 1)
    if levels[index].count > 0 { out.append(UInt8(ascii: ",")) }
    levels[index].count += 1
  }

  /// Opens a container for the value slot `slot` at `depth`, or returns the one it opened.
  func open(depth: Int, slot: Int, close: UInt8, sortedMap: Bool = false) -> Int {
    if depth < levels.count && levels[depth].slot == slot { return levels[depth].id }
    unwind(to: depth)
    let id = newID()
    levels.append(Level(id: id, slot: slot, close: close, entries: sortedMap ? [] : nil))
    if !sortedMap { out.append(close == UInt8(ascii: "}") ? UInt8(ascii: "{") : UInt8(ascii: "[")) }
    return id
  }

  /// Writes one value in the slot at `depth`: primitives directly, others via `encode(to:)`.
  /// The coding path gets `key` appended only if a nested encoder needs it.
  func encodeValue<T: Encodable>(
    _ value: T, depth: Int, codingPath: [any CodingKey], key: (any CodingKey)?
  ) throws {
    // Metatype comparisons, not `as` casts: this runs for every value.
    let t = T.self
    if t == String.self {
      WireSink.writeString(value as! String, to: &out)
    } else if t == Int.self {
      out.append(contentsOf: String(value as! Int).utf8)
    } else if t == Bool.self {
      out.append(contentsOf: (value as! Bool ? "true" : "false").utf8)
    } else if t == UInt8.self {
      out.append(contentsOf: String(value as! UInt8).utf8)
    } else if t == Int64.self {
      out.append(contentsOf: String(value as! Int64).utf8)
    } else if t == UInt64.self {
      out.append(contentsOf: String(value as! UInt64).utf8)
    } else if t == Int32.self {
      out.append(contentsOf: String(value as! Int32).utf8)
    } else if t == UInt32.self {
      out.append(contentsOf: String(value as! UInt32).utf8)
    } else if t == Double.self {
      out.append(contentsOf: WireSink.format(value as! Double).utf8)
    } else {
      let before = out.count
      let slot = newID()
      let path = key.map { codingPath + [$0] } ?? codingPath
      try value.encode(to: WireStreamEncoder(sink: self, depth: depth, slot: slot, codingPath: path))
      // A value that wrote nothing and opened nothing is `null`, so the JSON stays well
      // formed. (A wrapper may hand its slot to an inner value, whose container then sits at
      // this depth under another slot id, so any open level here counts.)
      if out.count == before && levels.count <= depth {
        out.append(contentsOf: "null".utf8)
      }
    }
  }

  /// serde_json prints integral floats with a trailing `.0`, as Swift's description does.
  static func format(_ v: Double) -> String { v.isFinite ? v.description : "null" }

  /// Writes a JSON string the way serde_json does: only `"`, `\` and control characters are
  /// escaped (short forms for \b \f \n \r \t, `\u00xx` with lowercase hex otherwise).
  static func writeString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    var s = s
    s.withUTF8 { bytes in
      var runStart = 0
      for (i, b) in bytes.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
        runStart = i + 1
        switch b {
        case 0x22: out.append(contentsOf: [92, 34])
        case 0x5C: out.append(contentsOf: [92, 92])
        case 0x08: out.append(contentsOf: [92, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [92, UInt8(ascii: "f")])
        case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
        default:
          let hex: [UInt8] = Array("0123456789abcdef".utf8)
          out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
        }
      }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }
    out.append(UInt8(ascii: "\""))
  }
}

/// The stdlib's private key type for `[String: V]` maps, found once by encoding a probe map.
/// Comparing metatypes is cheap, unlike a dynamic cast or a type-name check per value.
private let dictionaryKeyType: ObjectIdentifier? = {
  // The probe must not touch WireStreamEncoder, whose container(keyedBy:) reads this global
  // (a recursive global initializer never finishes).
  final class Probe: Encoder {
    var found: ObjectIdentifier?
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
      found = ObjectIdentifier(type)
      return KeyedEncodingContainer(Discard<Key>())
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("unused by the probe") }
    func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("unused by the probe") }
  }
  struct Discard<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {}
    mutating func nestedContainer<N: CodingKey>(keyedBy: N.Type, forKey: Key) -> KeyedEncodingContainer<N> {
      KeyedEncodingContainer(Discard<N>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
      fatalError("unused by the probe")
    }
    mutating func superEncoder() -> any Encoder { fatalError("unused by the probe") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("unused by the probe") }
  }
  let probe = Probe()
  try? ["k": 0].encode(to: probe)
  return probe.found
}()

/// The `Encoder` for one value slot.
struct WireStreamEncoder: Encoder {
  let sink: WireSink
  let depth: Int
  let slot: Int
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    let isMap = ObjectIdentifier(Key.self) == dictionaryKeyType
    let id = sink.open(depth: depth, slot: slot, close: UInt8(ascii: "}"), sortedMap: isMap)
    return KeyedEncodingContainer(
      WireStreamKeyed<Key>(sink: sink, index: depth, id: id, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    let id = sink.open(depth: depth, slot: slot, close: UInt8(ascii: "]"))
    return WireStreamUnkeyed(sink: sink, index: depth, id: id, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer { self }

  /// Appends a descriptor to the packet and returns its index (used by `FDRef`).
  func appendDescriptor(_ fd: FileDescriptor) -> Int {
    sink.descriptors.append(fd)
    return sink.descriptors.count - 1
  }
}

extension WireStreamEncoder: SingleValueEncodingContainer {
  mutating func encodeNil() throws { sink.out.append(contentsOf: "null".utf8) }
  mutating func encode(_ value: Bool) throws { sink.out.append(contentsOf: (value ? "true" : "false").utf8) }
  mutating func encode(_ value: String) throws { WireSink.writeString(value, to: &sink.out) }
  mutating func encode(_ value: Int) throws { sink.out.append(contentsOf: String(value).utf8) }
  mutating func encode(_ value: Double) throws { sink.out.append(contentsOf: WireSink.format(value).utf8) }
  mutating func encode<T: Encodable>(_ value: T) throws {
    try sink.encodeValue(value, depth: depth, codingPath: codingPath, key: nil)
  }
}

struct WireStreamKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let sink: WireSink
  let index: Int
  let id: Int
  var codingPath: [any CodingKey]

  /// Starts the member `key`; false if this container was already closed.
  private func begin(_ key: Key) -> Bool { begin(name: key.stringValue) }

  private func begin(name: String) -> Bool {
    guard sink.isOpen(index, id, codingPath) else { return false }
    sink.beginMember(index)
    WireSink.writeString(name, to: &sink.out)
    sink.out.append(UInt8(ascii: ":"))
    return true
  }

  private var isMap: Bool { index < sink.levels.count && sink.levels[index].id == id && sink.levels[index].entries != nil }

  /// Map members are encoded on their own and sorted when the map closes.
  private func mapMember<T: Encodable>(_ value: T, _ key: Key) throws {
    guard sink.isOpen(index, id, codingPath + [key]) else { return }
    sink.unwind(to: index + 1)
    let sub = WireSink(out: [], descriptors: sink.descriptors)
    try sub.encodeValue(value, depth: 0, codingPath: codingPath, key: key)
    sub.unwind(to: 0)
    if let f = sub.failure { throw f }
    sink.descriptors = sub.descriptors
    sink.levels[index].entries!.append((key.stringValue, sub.out))
  }

  mutating func encodeNil(forKey key: Key) throws {
    if isMap { return try mapMember(Optional<Int>.none, key) }
    if begin(key) { sink.out.append(contentsOf: "null".utf8) }
  }
  mutating func encode(_ value: Bool, forKey key: Key) throws {
    if isMap { return try mapMember(value, key) }
    if begin(key) { sink.out.append(contentsOf: (value ? "true" : "false").utf8) }
  }
  mutating func encode(_ value: String, forKey key: Key) throws {
    if isMap { return try mapMember(value, key) }
    if begin(key) { WireSink.writeString(value, to: &sink.out) }
  }
  mutating func encode(_ value: Int, forKey key: Key) throws {
    if isMap { return try mapMember(value, key) }
    if begin(key) { sink.out.append(contentsOf: String(value).utf8) }
  }
  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    if isMap { return try mapMember(value, key) }
    if begin(key) {
      try sink.encodeValue(value, depth: index + 1, codingPath: codingPath, key: key)
    }
  }
  // serde writes `null` for `None`; synthesized Codable calls encodeIfPresent for optionals.
  mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
    if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
  }
  mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
    if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
  }
  mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
    if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
  }
  mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
    if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
  }

  private func nestedEncoder(_ key: Key) -> WireStreamEncoder {
    _ = begin(key)  // a closed container records the failure; the result is then discarded
    return WireStreamEncoder(
      sink: sink, depth: index + 1, slot: sink.newID(), codingPath: codingPath + [key])
  }
  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    nestedEncoder(key).container(keyedBy: keyType)
  }
  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    nestedEncoder(key).unkeyedContainer()
  }
  mutating func superEncoder() -> any Encoder {
    _ = begin(name: "super")
    return WireStreamEncoder(sink: sink, depth: index + 1, slot: sink.newID(), codingPath: codingPath)
  }
  mutating func superEncoder(forKey key: Key) -> any Encoder { nestedEncoder(key) }
}

struct WireStreamUnkeyed: UnkeyedEncodingContainer {
  let sink: WireSink
  let index: Int
  let id: Int
  var codingPath: [any CodingKey]
  var count = 0

  private mutating func begin() -> Bool {
    guard sink.isOpen(index, id, codingPath) else { return false }
    sink.beginMember(index)
    count += 1
    return true
  }

  mutating func encodeNil() throws { if begin() { sink.out.append(contentsOf: "null".utf8) } }
  mutating func encode(_ value: String) throws { if begin() { WireSink.writeString(value, to: &sink.out) } }
  mutating func encode(_ value: Int) throws { if begin() { sink.out.append(contentsOf: String(value).utf8) } }
  mutating func encode<T: Encodable>(_ value: T) throws {
    if begin() { try sink.encodeValue(value, depth: index + 1, codingPath: codingPath, key: nil) }
  }
  private mutating func nestedEncoder() -> WireStreamEncoder {
    _ = begin()
    return WireStreamEncoder(sink: sink, depth: index + 1, slot: sink.newID(), codingPath: codingPath)
  }
  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type
  ) -> KeyedEncodingContainer<NestedKey> {
    nestedEncoder().container(keyedBy: keyType)
  }
  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    nestedEncoder().unkeyedContainer()
  }
  mutating func superEncoder() -> any Encoder { nestedEncoder() }
}
