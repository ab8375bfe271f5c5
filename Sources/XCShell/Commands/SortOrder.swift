/// The order of a sort's rows when each has one int key or one string key, found from the raw
/// keys rather than by comparing values. The order is the one `FilterCommands.sorted` gives any
/// keys: ascending (or, reversed, descending) by key, rows with equal keys in their input order.
enum SortOrder {
  /// The row indices in order of `keys` when every key is an int, else nil.
  static func ints(_ keys: [Value], reverse: Bool) -> [Int]? {
    var raw: [UInt64] = []
    raw.reserveCapacity(keys.count)
    for k in keys {
      guard case .int(let n) = k.kind else { return nil }
      // `~n` orders the ints the other way round without overflowing (unlike `-n`); flipping
      // the sign bit then orders them as unsigned numbers.
      raw.append(UInt64(bitPattern: reverse ? ~n : n) ^ (1 << 63))
    }
    return radix(raw)
  }

  /// The row indices in order of `keys` when every key is a string, else nil.
  static func strings(_ keys: [Value], reverse: Bool) -> [Int]? {
    var pairs: [(key: String, index: Int)] = []
    pairs.reserveCapacity(keys.count)
    for (i, k) in keys.enumerated() {
      guard case .string(let s) = k.kind else { return nil }
      pairs.append((s, i))
    }
    pairs.sort { $0.key != $1.key ? (reverse ? $0.key > $1.key : $0.key < $1.key) : $0.index < $1.index }
    return pairs.map(\.index)
  }

  /// Rearranges `items` so that item `k` is the one that was at `order[k]` (`order` a
  /// permutation of the indices), moving each item once rather than copying every one.
  static func permute<T>(_ items: inout [T], by order: consuming [Int]) {
    items.withUnsafeMutableBufferPointer { items in
      // Each cycle of the permutation in turn; a done index is marked by pointing at itself.
      for start in items.indices where order[start] != start {
        var j = start
        while order[j] != start {
          let k = order[j]
          items.swapAt(j, k)
          order[j] = j
          j = k
        }
        order[j] = j
      }
    }
  }

  /// The indices of `keys` in ascending order of key, equal keys in index order: a least
  /// significant digit radix sort (stable by construction), a byte per pass, over only the
  /// bytes in which the keys differ — linear where comparing would take n log n steps.
  static func radix(_ keys: [UInt64]) -> [Int] {
    guard var low = keys.first else { return [] }
    var high = low
    for k in keys {
      low = min(low, k)
      high = max(high, k)
    }
    let range = high - low
    // (offset from the smallest key, index), moved between two buffers pass by pass.
    var items = keys.enumerated().map { (key: $0.element - low, index: $0.offset) }
    var other = items
    var counts = [Int](repeating: 0, count: 256)
    var shift: UInt64 = 0
    while shift < 64, range >> shift != 0 {
      let s = shift
      items.withUnsafeBufferPointer { from in
        other.withUnsafeMutableBufferPointer { to in
          counts.withUnsafeMutableBufferPointer { counts in
            counts.update(repeating: 0)
            for item in from { counts[Int(truncatingIfNeeded: item.key &>> s) & 0xff] &+= 1 }
            var start = 0
            for b in 0..<256 {
              let c = counts[b]
              counts[b] = start
              start &+= c
            }
            for item in from {
              let b = Int(truncatingIfNeeded: item.key &>> s) & 0xff
              to[counts[b]] = item
              counts[b] &+= 1
            }
          }
        }
      }
      swap(&items, &other)
      shift += 8
    }
    return items.map(\.index)
  }
}
