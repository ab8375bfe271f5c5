/// A record: fields in insertion order.
///
/// Records are small (a handful of columns), so a pair of arrays with a linear search beats a
/// hash table, and keeps the order `to json` and tables show. Both arrays live in one
/// copy-on-write object: a record is one word (so a `Value` holding one is small and is copied
/// with one retain), and a record moved out of its variable is changed in place.
public struct Record: Sendable, Equatable, Sequence {
  private final class Storage: @unchecked Sendable {
    var keys: [String]
    var values: [Value]
    init(keys: [String], values: [Value]) {
      self.keys = keys
      self.values = values
    }
  }

  private var storage: Storage

  /// Every empty record shares one object until it gains a field.
  private static let empty = Storage(keys: [], values: [])

  public var keys: [String] { storage.keys }
  public var values: [Value] { storage.values }

  public init() { storage = Self.empty }

  public init(_ pairs: [(String, Value)]) {
    self.init(capacity: pairs.count)
    for (k, v) in pairs { self[k] = v }
  }

  /// An empty record with room for `capacity` fields.
  init(capacity: Int) {
    var keys: [String] = []
    var values: [Value] = []
    keys.reserveCapacity(capacity)
    values.reserveCapacity(capacity)
    storage = Storage(keys: keys, values: values)
  }

  /// The record of `keys` and `values`, pairwise. The keys must be distinct and as many as the
  /// values (a record literal with constant keys checks this once, not per record it builds).
  init(distinctKeys keys: [String], values: [Value]) {
    assert(keys.count == values.count && Set(keys).count == keys.count)
    storage = Storage(keys: keys, values: values)
  }

  public var count: Int { storage.keys.count }
  public var isEmpty: Bool { storage.keys.isEmpty }

  public func index(of key: String) -> Int? { storage.keys.firstIndex(of: key) }

  /// The value at index `i` (of `index(of:)`).
  @inline(__always) func value(at i: Int) -> Value { storage.values[i] }

  /// The storage, copied first when another record shares it.
  @inline(__always) private mutating func unique() -> Storage {
    if !isKnownUniquelyReferenced(&storage) { storage = Storage(keys: storage.keys, values: storage.values) }
    return storage
  }

  public subscript(key: String) -> Value? {
    get { index(of: key).map { storage.values[$0] } }
    set {
      if let i = index(of: key) {
        let s = unique()
        if let newValue { s.values[i] = newValue } else {
          s.keys.remove(at: i)
          s.values.remove(at: i)
        }
      } else if let newValue {
        let s = unique()
        s.keys.append(key)
        s.values.append(newValue)
      }
    }
  }

  /// Changes the value at index `i` (of `index(of:)`) in place.
  mutating func updateValue(at i: Int, _ body: (inout Value) throws -> Void) rethrows {
    try body(&unique().values[i])
  }

  public func makeIterator() -> Zip2Sequence<[String], [Value]>.Iterator {
    zip(storage.keys, storage.values).makeIterator()
  }

  public static func == (a: Record, b: Record) -> Bool {
    guard a.count == b.count else { return false }
    for (k, v) in a { guard let w = b[k], w == v else { return false } }
    return true
  }
}
