/// Decodes `Decodable` values from JSON, as strictly as serde_json reads it.
///
/// Foundation's `JSONDecoder` works, but its fixed cost per call (about 1–2 µs for a
/// ten-byte payload) was half of the CPU time of a small call. This decoder parses into a
/// small tree and decodes from it. Rules:
/// * the input must be one JSON value, optionally surrounded by whitespace, in valid UTF-8;
/// * strings reject raw control characters, bad escapes and lone surrogates;
/// * integers must be written as integers (no `1.0` for an `Int`) and fit the target type;
/// * nesting deeper than 512 levels is rejected, so hostile input cannot exhaust the stack;
/// * unknown object keys are ignored; a repeated key takes its last value.
///
/// Errors are `DecodingError`s with the coding path, like `JSONDecoder`'s; malformed JSON is
/// `.dataCorrupted` with an empty path.
public struct WireDecoder {
  /// Values handed to `init(from:)` implementations (`FDRef` finds descriptors here).
  public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

  /// Creates a decoder.
  public init() {}

  /// Decodes a `T` from `bytes`.
  public func decode<T: Decodable, C: Collection<UInt8>>(_ type: T.Type, from bytes: C) throws -> T
  {
    let value = try WireParser.parse(bytes)
    return try WireValueDecoder(value: value, parentPath: [], key: nil, userInfo: userInfo).unwrap(
      T.self)
  }
}

/// A parsed JSON value. Numbers keep their text so each target type parses it strictly.
enum WireValue {
  case null
  case bool(Bool)
  case number(String)
  case string(String)
  case array([WireValue])
  case object([(key: String, value: WireValue)])

  var kindName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

// MARK: - Parsing

struct WireParser {
  static let maxDepth = 512

  static func parse<C: Collection<UInt8>>(_ bytes: C) throws -> WireValue {
    if let v = try bytes.withContiguousStorageIfAvailable({ try parse(buffer: $0) }) { return v }
    return try Array(bytes).withUnsafeBufferPointer { try parse(buffer: $0) }
  }

  static func parse(buffer: UnsafeBufferPointer<UInt8>) throws -> WireValue {
    var p = WireParser(bytes: buffer)
    p.skipWhitespace()
    let v = try p.parseValue(depth: 0)
    p.skipWhitespace()
    guard p.i == buffer.count else { throw p.error("unexpected characters after the JSON value") }
    return v
  }

  let bytes: UnsafeBufferPointer<UInt8>
  var i = 0

  init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  func error(_ reason: String) -> DecodingError {
    .dataCorrupted(
      .init(
        codingPath: [],
        debugDescription: "The given data was not valid JSON: \(reason) at byte \(i)"))
  }

  mutating func skipWhitespace() {
    while i < bytes.count {
      switch bytes[i] {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return
      }
    }
  }

  mutating func parseValue(depth: Int) throws -> WireValue {
    guard i < bytes.count else { throw error("unexpected end of input") }
    switch bytes[i] {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default: throw error("unexpected character")
    }
  }

  mutating func literal(_ word: StaticString) throws {
    let n = word.utf8CodeUnitCount
    guard i + n <= bytes.count else { throw error("unexpected end of input") }
    let w = word.utf8Start
    for k in 0..<n where bytes[i + k] != w[k] { throw error("invalid literal") }
    i += n
  }

  mutating func parseObject(depth: Int) throws -> WireValue {
    guard depth <= WireParser.maxDepth else { throw error("nesting too deep") }
    i += 1
    var members: [(key: String, value: WireValue)] = []
    skipWhitespace()
    if i < bytes.count && bytes[i] == UInt8(ascii: "}") {
      i += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
      let key = try parseString()
      skipWhitespace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
      i += 1
      skipWhitespace()
      members.append((key, try parseValue(depth: depth)))
      skipWhitespace()
      guard i < bytes.count else { throw error("unexpected end of input") }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      if bytes[i] == UInt8(ascii: "}") {
        i += 1
        return .object(members)
      }
      throw error("expected ',' or '}'")
    }
  }

  mutating func parseArray(depth: Int) throws -> WireValue {
    guard depth <= WireParser.maxDepth else { throw error("nesting too deep") }
    i += 1
    var items: [WireValue] = []
    skipWhitespace()
    if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
      i += 1
      return .array(items)
    }
    while true {
      skipWhitespace()
      items.append(try parseValue(depth: depth))
      skipWhitespace()
      guard i < bytes.count else { throw error("unexpected end of input") }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      if bytes[i] == UInt8(ascii: "]") {
        i += 1
        return .array(items)
      }
      throw error("expected ',' or ']'")
    }
  }

  mutating func parseString() throws -> String {
    i += 1  // opening quote
    let start = i
    // Fast path: no escapes.
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        let s = try validated(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        i += 1
        return s
      }
      if b == UInt8(ascii: "\\") { break }
      if b < 0x20 { throw error("control character in string") }
      i += 1
    }
    var out = Array(bytes[start..<i])
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        return try out.withUnsafeBufferPointer { try validated($0) }
      }
      if b < 0x20 { throw error("control character in string") }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        i += 1
        continue
      }
      i += 1
      guard i < bytes.count else { break }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
          guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
            bytes[i + 1] == UInt8(ascii: "u")
          else { throw error("lone surrogate in string") }
          i += 2
          let low = try hex4()
          guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate in string") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
          throw error("lone surrogate in string")
        }
        guard let u = Unicode.Scalar(scalar) else { throw error("invalid escape") }
        out.append(contentsOf: Array(String(Character(u)).utf8))
      default:
        throw error("invalid escape")
      }
    }
    throw error("unterminated string")
  }

  mutating func hex4() throws -> UInt32 {
    guard i + 4 <= bytes.count else { throw error("unexpected end of input") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[i]
      let d: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw error("invalid \\u escape")
      }
      v = v << 4 | d
      i += 1
    }
    return v
  }

  func validated(_ b: UnsafeBufferPointer<UInt8>) throws -> String {
    guard let s = String(validating: b, as: UTF8.self) else { throw error("invalid UTF-8") }
    return s
  }

  mutating func parseNumber() throws -> String {
    let start = i
    if bytes[i] == UInt8(ascii: "-") { i += 1 }
    func digits(_ p: inout WireParser) -> Int {
      let s = p.i
      while p.i < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.i]) {
        p.i += 1
      }
      return p.i - s
    }
    guard i < bytes.count else { throw error("invalid number") }
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
    } else if digits(&self) == 0 {
      throw error("invalid number")
    }
    if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits(&self) > 0 else { throw error("invalid number") }
    }
    if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
      i += 1
      if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
        i += 1
      }
      guard digits(&self) > 0 else { throw error("invalid number") }
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
  }
}

// MARK: - Decoding

struct WireValueDecoder: Decoder {
  let value: WireValue
  // The path is built only when asked for (errors, containers): appending a key per field
  // would allocate for every value decoded.
  let parentPath: [any CodingKey]
  let key: (any CodingKey)?
  let sendableUserInfo: [CodingUserInfoKey: any Sendable]
  var userInfo: [CodingUserInfoKey: Any] { sendableUserInfo }
  var codingPath: [any CodingKey] {
    guard let key else { return parentPath }
    return parentPath + [key]
  }

  init(
    value: WireValue, parentPath: [any CodingKey], key: (any CodingKey)?,
    userInfo: [CodingUserInfoKey: any Sendable]
  ) {
    self.value = value
    self.parentPath = parentPath
    self.key = key
    self.sendableUserInfo = userInfo
  }

  /// A decoder for a member of this value, whose path is `path` (this value's) plus `key`.
  func child(_ v: WireValue, _ key: any CodingKey, path: [any CodingKey]) -> WireValueDecoder {
    WireValueDecoder(value: v, parentPath: path, key: key, userInfo: sendableUserInfo)
  }

  func mismatch(_ type: Any.Type) -> DecodingError {
    if case .null = value {
      return .valueNotFound(
        type,
        .init(
          codingPath: codingPath, debugDescription: "Expected \(type) value but found null instead."
        ))
    }
    return .typeMismatch(
      type,
      .init(
        codingPath: codingPath,
        debugDescription: "Expected to decode \(type) but found \(value.kindName) instead."))
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let members) = value else { throw mismatch([String: Any].self) }
    return KeyedDecodingContainer(
      WireKeyedDecoding<Key>(decoder: self, members: members, codingPath: codingPath))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let items) = value else { throw mismatch([Any].self) }
    return WireUnkeyedDecoding(decoder: self, items: items, codingPath: codingPath)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

  // Primitive conversions, strict like serde.
  func bool() throws -> Bool {
    guard case .bool(let b) = value else { throw mismatch(Bool.self) }
    return b
  }
  func string() throws -> String {
    guard case .string(let s) = value else { throw mismatch(String.self) }
    return s
  }
  func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
    guard case .number(let text) = value else { throw mismatch(type) }
    guard let v = T(text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: codingPath, debugDescription: "Number \(text) is not a valid \(type)."))
    }
    return v
  }
  func floating<T: LosslessStringConvertible>(_ type: T.Type) throws -> T {
    guard case .number(let text) = value, let v = T(text) else { throw mismatch(type) }
    return v
  }

  func unwrap<T: Decodable>(_ type: T.Type) throws -> T {
    // Fast paths for the primitives; everything else decodes itself.
    if T.self == String.self { return try string() as! T }
    if T.self == Int.self { return try integer(Int.self) as! T }
    if T.self == Bool.self { return try bool() as! T }
    if T.self == UInt8.self { return try integer(UInt8.self) as! T }
    if T.self == Int64.self { return try integer(Int64.self) as! T }
    if T.self == UInt64.self { return try integer(UInt64.self) as! T }
    if T.self == Double.self { return try floating(Double.self) as! T }
    return try T(from: self)
  }
}

extension WireValueDecoder: SingleValueDecodingContainer {
  func decodeNil() -> Bool {
    if case .null = value { return true }
    return false
  }
  func decode(_ type: Bool.Type) throws -> Bool { try bool() }
  func decode(_ type: String.Type) throws -> String { try string() }
  func decode(_ type: Double.Type) throws -> Double { try floating(Double.self) }
  func decode(_ type: Float.Type) throws -> Float { try floating(Float.self) }
  func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
  func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
  func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
  func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
  func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
  func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
  func decode<T: Decodable>(_ type: T.Type) throws -> T { try unwrap(type) }
}

struct WireKeyedDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let decoder: WireValueDecoder
  let members: [(key: String, value: WireValue)]
  /// Computed once per container and shared (copy-on-write) by every member's decoder.
  let codingPath: [any CodingKey]
  var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

  /// The last value for `key` (a repeated key takes its last value, as serde_json's maps do).
  func find(_ key: Key) -> WireValue? {
    let name = key.stringValue
    var i = members.count - 1
    while i >= 0 {
      if members[i].key == name { return members[i].value }
      i -= 1
    }
    return nil
  }

  func require(_ key: Key) throws -> WireValueDecoder {
    guard let v = find(key) else {
      throw DecodingError.keyNotFound(
        key,
        .init(
          codingPath: codingPath,
          debugDescription: "No value associated with key \"\(key.stringValue)\"."))
    }
    return decoder.child(v, key, path: codingPath)
  }

  func contains(_ key: Key) -> Bool { find(key) != nil }

  func decodeNil(forKey key: Key) throws -> Bool { try require(key).decodeNil() }
  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try require(key).bool() }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { try require(key).string() }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
    try require(key).integer(Int.self)
  }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
    try require(key).floating(Double.self)
  }
  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    try require(key).unwrap(type)
  }

  // One lookup instead of the default's three (contains, decodeNil, decode).
  func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
    guard let v = find(key) else { return nil }
    if case .null = v { return nil }
    return try decoder.child(v, key, path: codingPath).unwrap(type)
  }
  func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
    guard let v = find(key) else { return nil }
    if case .null = v { return nil }
    return try decoder.child(v, key, path: codingPath).string()
  }
  func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
    guard let v = find(key) else { return nil }
    if case .null = v { return nil }
    return try decoder.child(v, key, path: codingPath).integer(Int.self)
  }
  func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
    guard let v = find(key) else { return nil }
    if case .null = v { return nil }
    return try decoder.child(v, key, path: codingPath).bool()
  }

  func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type, forKey key: Key
  ) throws -> KeyedDecodingContainer<NestedKey> {
    try require(key).container(keyedBy: type)
  }
  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try require(key).unkeyedContainer()
  }
  func superDecoder() throws -> any Decoder {
    decoder.child(
      members.last(where: { $0.key == "super" })?.value ?? .null, AnyCodingKey("super"),
      path: codingPath)
  }
  func superDecoder(forKey key: Key) throws -> any Decoder {
    decoder.child(find(key) ?? .null, key, path: codingPath)
  }
}

struct WireUnkeyedDecoding: UnkeyedDecodingContainer {
  let decoder: WireValueDecoder
  let items: [WireValue]
  var currentIndex = 0
  let codingPath: [any CodingKey]
  var count: Int? { items.count }
  var isAtEnd: Bool { currentIndex >= items.count }

  init(decoder: WireValueDecoder, items: [WireValue], codingPath: [any CodingKey]) {
    self.decoder = decoder
    self.items = items
    self.codingPath = codingPath
  }

  mutating func next(_ type: Any.Type) throws -> WireValueDecoder {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        type,
        .init(
          codingPath: codingPath + [AnyCodingKey(intValue: currentIndex)],
          debugDescription: "Unkeyed container is at end."))
    }
    defer { currentIndex += 1 }
    return decoder.child(
      items[currentIndex], AnyCodingKey(intValue: currentIndex), path: codingPath)
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd else { return false }
    if case .null = items[currentIndex] {
      currentIndex += 1
      return true
    }
    return false
  }
  mutating func decode(_ type: String.Type) throws -> String { try next(type).string() }
  mutating func decode(_ type: Int.Type) throws -> Int { try next(type).integer(Int.self) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).integer(UInt8.self) }
  mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).bool() }
  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).unwrap(type) }
  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type
  ) throws -> KeyedDecodingContainer<NestedKey> {
    try next([String: Any].self).container(keyedBy: type)
  }
  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    try next([Any].self).unkeyedContainer()
  }
  mutating func superDecoder() throws -> any Decoder { try next(Any.self) }
}
