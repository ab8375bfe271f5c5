import SystemPackage

/// Encodes `Encodable` values as the compact JSON serde_json writes, and collects the
/// descriptors that `FDRef` fields reference.
///
/// Foundation's `JSONEncoder` cannot be used for requests: it orders keys by hash (or sorts
/// them), omits `nil` optionals and escapes `/`. serde writes struct fields in declaration
/// order, `null` for `None`, and escapes only `"`, `\` and control characters. This encoder
/// builds a small tree and writes it the same way. Keys of `[String: T]` maps are sorted so
/// output is deterministic (serde's HashMap order is arbitrary, so any order is valid).
public struct WireEncoder {
  /// Creates an encoder.
  public init() {}

  /// Encodes `value`; descriptors referenced by `FDRef` fields are appended to `descriptors`
  /// and their indices written into the JSON.
  public func encode<T: Encodable>(
    _ value: T, descriptors: inout [FileDescriptor]
  ) throws -> [UInt8] {
    let context = WireEncodingContext(descriptors: descriptors)
    let root = WireNode()
    try value.encode(to: WireNodeEncoder(node: root, context: context, codingPath: []))
    descriptors = context.descriptors
    var out: [UInt8] = []
    out.reserveCapacity(256)
    root.write(to: &out)
    return out
  }

  /// Appends `value`'s JSON to `out` (used to build envelopes without a wrapper struct).
  func encode<T: Encodable>(
    _ value: T, into out: inout [UInt8], descriptors: inout [FileDescriptor]
  ) throws {
    let context = WireEncodingContext(descriptors: descriptors)
    let root = WireNode()
    try encodeValue(value, into: root, context: context, codingPath: [])
    descriptors = context.descriptors
    root.write(to: &out)
  }

  /// Encodes `value` when it carries no descriptors (or they are not wanted).
  public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
    var fds: [FileDescriptor] = []
    return try encode(value, descriptors: &fds)
  }
}

/// Shared state of one encoding pass: the descriptor array being built.
final class WireEncodingContext {
  var descriptors: [FileDescriptor]
  init(descriptors: [FileDescriptor]) { self.descriptors = descriptors }
}

/// One JSON value under construction.
final class WireNode {
  enum Kind {
    case unset, null
    case bool(Bool)
    case number(String)
    case string(String)
    case array, object
  }
  var kind: Kind = .unset
  var items: [WireNode] = []
  var keys: [String] = []
  var sortKeys = false

  func child(forKey key: String) -> WireNode {
    let n = WireNode()
    if let i = keys.firstIndex(of: key) {
      items[i] = n  // a repeated key replaces the earlier value, as in a map
    } else {
      keys.append(key)
      items.append(n)
    }
    return n
  }

  func appendItem() -> WireNode {
    let n = WireNode()
    items.append(n)
    return n
  }

  func write(to out: inout [UInt8]) {
    switch kind {
    case .unset, .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .number(let s): out.append(contentsOf: s.utf8)
    case .string(let s): WireNode.writeString(s, to: &out)
    case .array:
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        item.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object:
      out.append(UInt8(ascii: "{"))
      var order = Array(keys.indices)
      if sortKeys { order.sort { keys[$0] < keys[$1] } }
      for (n, i) in order.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        WireNode.writeString(keys[i], to: &out)
        out.append(UInt8(ascii: ":"))
        items[i].write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// Writes a JSON string the way serde_json does: only `"`, `\` and control characters are
  /// escaped (short forms for \b \f \n \r \t, `\u00xx` with lowercase hex otherwise).
  static func writeString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    let hex = Array("0123456789abcdef".utf8)
    for b in s.utf8 {
      switch b {
      case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
      case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
      case 0x08: out.append(contentsOf: [92, UInt8(ascii: "b")])
      case 0x0C: out.append(contentsOf: [92, UInt8(ascii: "f")])
      case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
      case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
      case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
      case 0..<0x20:
        out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

/// The `Encoder` handed to `encode(to:)` implementations.
struct WireNodeEncoder: Encoder {
  let node: WireNode
  let context: WireEncodingContext
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    // A second request for a keyed container on the same value keeps adding to it.
    switch node.kind {
    case .object: break
    default:
      node.kind = .object
      node.sortKeys = ObjectIdentifier(Key.self) == dictionaryKeyType
    }
    return KeyedEncodingContainer(
      WireKeyedContainer<Key>(node: node, context: context, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    switch node.kind {
    case .array: break
    default: node.kind = .array
    }
    return WireUnkeyedContainer(node: node, context: context, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    WireSingleValueContainer(node: node, context: context, codingPath: codingPath)
  }
}

/// The stdlib's private key type for `[String: V]` maps, found once by encoding a probe map.
/// Maps are written with sorted keys (deterministic output); comparing metatypes is cheap,
/// unlike a dynamic cast or a type-name check per value.
private let dictionaryKeyType: ObjectIdentifier? = {
  final class Probe: Encoder, @unchecked Sendable {
    var found: ObjectIdentifier?
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
      found = ObjectIdentifier(type)
      return KeyedEncodingContainer(
        WireKeyedContainer<Key>(
          node: WireNode(), context: WireEncodingContext(descriptors: []), codingPath: []))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
      WireUnkeyedContainer(
        node: WireNode(), context: WireEncodingContext(descriptors: []), codingPath: [])
    }
    func singleValueContainer() -> any SingleValueEncodingContainer {
      WireSingleValueContainer(
        node: WireNode(), context: WireEncodingContext(descriptors: []), codingPath: [])
    }
  }
  let probe = Probe()
  try? ["k": 0].encode(to: probe)
  return probe.found
}()

/// Sets a node from a primitive, or recurses into `encode(to:)`. The path gets `key` appended
/// only when a nested encoder needs it, so primitive fields never allocate a path.
private func encodeValue<T: Encodable>(
  _ value: T, into node: WireNode, context: WireEncodingContext, codingPath: [any CodingKey],
  key: (any CodingKey)? = nil
) throws {
  let path = { key.map { codingPath + [$0] } ?? codingPath }
  // Metatype comparisons, not `as` casts: this runs for every value.
  let t = T.self
  if t == String.self {
    node.kind = .string(value as! String)
  } else if t == Int.self {
    node.kind = .number(String(value as! Int))
  } else if t == Bool.self {
    node.kind = .bool(value as! Bool)
  } else if t == UInt8.self {
    node.kind = .number(String(value as! UInt8))
  } else if t == Int64.self {
    node.kind = .number(String(value as! Int64))
  } else if t == UInt64.self {
    node.kind = .number(String(value as! UInt64))
  } else if t == Int32.self {
    node.kind = .number(String(value as! Int32))
  } else if t == UInt32.self {
    node.kind = .number(String(value as! UInt32))
  } else if t == Double.self {
    node.kind = .number(formatDouble(value as! Double))
  } else {
    try value.encode(to: WireNodeEncoder(node: node, context: context, codingPath: path()))
  }
}

/// serde_json prints integral floats with a trailing `.0`, as Swift's description does.
private func formatDouble(_ v: Double) -> String {
  v.isFinite ? v.description : "null"
}

struct WireKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: WireNode
  let context: WireEncodingContext
  var codingPath: [any CodingKey]

  mutating func encodeNil(forKey key: Key) throws {
    node.child(forKey: key.stringValue).kind = .null
  }
  mutating func encode(_ value: Bool, forKey key: Key) throws {
    node.child(forKey: key.stringValue).kind = .bool(value)
  }
  mutating func encode(_ value: String, forKey key: Key) throws {
    node.child(forKey: key.stringValue).kind = .string(value)
  }
  mutating func encode(_ value: Int, forKey key: Key) throws {
    node.child(forKey: key.stringValue).kind = .number(String(value))
  }
  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    try encodeValue(
      value, into: node.child(forKey: key.stringValue), context: context,
      codingPath: codingPath, key: key)
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
  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    WireNodeEncoder(
      node: node.child(forKey: key.stringValue), context: context, codingPath: codingPath + [key]
    ).container(keyedBy: keyType)
  }
  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    WireNodeEncoder(
      node: node.child(forKey: key.stringValue), context: context, codingPath: codingPath + [key]
    ).unkeyedContainer()
  }
  mutating func superEncoder() -> any Encoder {
    WireNodeEncoder(node: node.child(forKey: "super"), context: context, codingPath: codingPath)
  }
  mutating func superEncoder(forKey key: Key) -> any Encoder {
    WireNodeEncoder(
      node: node.child(forKey: key.stringValue), context: context, codingPath: codingPath + [key])
  }
}

struct WireUnkeyedContainer: UnkeyedEncodingContainer {
  let node: WireNode
  let context: WireEncodingContext
  var codingPath: [any CodingKey]
  var count: Int { node.items.count }

  mutating func encodeNil() throws { node.appendItem().kind = .null }
  mutating func encode<T: Encodable>(_ value: T) throws {
    try encodeValue(value, into: node.appendItem(), context: context, codingPath: codingPath)
  }
  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type
  ) -> KeyedEncodingContainer<NestedKey> {
    WireNodeEncoder(node: node.appendItem(), context: context, codingPath: codingPath)
      .container(keyedBy: keyType)
  }
  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    WireNodeEncoder(node: node.appendItem(), context: context, codingPath: codingPath)
      .unkeyedContainer()
  }
  mutating func superEncoder() -> any Encoder {
    WireNodeEncoder(node: node.appendItem(), context: context, codingPath: codingPath)
  }
}

struct WireSingleValueContainer: SingleValueEncodingContainer {
  let node: WireNode
  let context: WireEncodingContext
  var codingPath: [any CodingKey]

  mutating func encodeNil() throws { node.kind = .null }
  mutating func encode(_ value: Bool) throws { node.kind = .bool(value) }
  mutating func encode(_ value: String) throws { node.kind = .string(value) }
  mutating func encode(_ value: Int) throws { node.kind = .number(String(value)) }
  mutating func encode(_ value: Double) throws { node.kind = .number(formatDouble(value)) }
  mutating func encode<T: Encodable>(_ value: T) throws {
    try encodeValue(value, into: node, context: context, codingPath: codingPath)
  }
}

extension WireNodeEncoder {
  /// Appends a descriptor to the packet and returns its index (used by `FDRef`).
  func appendDescriptor(_ fd: FileDescriptor) -> Int {
    context.descriptors.append(fd)
    return context.descriptors.count - 1
  }
}
