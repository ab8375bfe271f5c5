/// A record: fields in insertion order.
///
/// Records are small (a handful of columns), so a pair of arrays with a linear search beats a
/// hash table, and keeps the order `to json` and tables show.
public struct Record: Sendable, Equatable, Sequence {
  public private(set) var keys: [String]
  public private(set) var values: [Value]

  public init() {
    keys = []
    values = []
  }

  public init(_ pairs: [(String, Value)]) {
    keys = []
    values = []
    keys.reserveCapacity(pairs.count)
    values.reserveCapacity(pairs.count)
    for (k, v) in pairs { self[k] = v }
  }

  /// An empty record with room for `capacity` fields.
  init(capacity: Int) {
    self.init()
    keys.reserveCapacity(capacity)
    values.reserveCapacity(capacity)
  }

  /// The record of `keys` and `values`, pairwise. The keys must be distinct and as many as the
  /// values (a record literal with constant keys checks this once, not per record it builds).
  init(distinctKeys keys: [String], values: [Value]) {
    assert(keys.count == values.count && Set(keys).count == keys.count)
    self.keys = keys
    self.values = values
  }

  public var count: Int { keys.count }
  public var isEmpty: Bool { keys.isEmpty }

  public func index(of key: String) -> Int? { keys.firstIndex(of: key) }

  public subscript(key: String) -> Value? {
    get { index(of: key).map { values[$0] } }
    set {
      if let i = index(of: key) {
        if let newValue { values[i] = newValue } else {
          keys.remove(at: i)
          values.remove(at: i)
        }
      } else if let newValue {
        keys.append(key)
        values.append(newValue)
      }
    }
  }

  /// Changes the value at index `i` (of `index(of:)`) in place.
  mutating func updateValue(at i: Int, _ body: (inout Value) throws -> Void) rethrows {
    try body(&values[i])
  }

  public func makeIterator() -> Zip2Sequence<[String], [Value]>.Iterator {
    zip(keys, values).makeIterator()
  }

  public static func == (a: Record, b: Record) -> Bool {
    guard a.count == b.count else { return false }
    for (k, v) in a { guard let w = b[k], w == v else { return false } }
    return true
  }
}
