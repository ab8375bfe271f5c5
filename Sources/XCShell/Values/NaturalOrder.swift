/// Natural order for `sort --natural` / `sort-by --natural`: runs of digits compare as numbers,
/// so `worker-2` comes before `worker-10` (as `sort -V` and `ls -v` order them).
enum NaturalOrder {
  /// -1, 0 or 1. Digit runs compare by value (then by length, so `01` follows `1`); other
  /// text compares by Unicode scalars.
  static func compare(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    var i = 0
    var j = 0
    func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 48 && s.value <= 57 }
    while i < x.count, j < y.count {
      if isDigit(x[i]), isDigit(y[j]) {
        let si = i
        let sj = j
        while i < x.count, isDigit(x[i]) { i += 1 }
        while j < y.count, isDigit(y[j]) { j += 1 }
        var ai = si
        var bj = sj
        while ai < i - 1, x[ai] == "0" { ai += 1 }
        while bj < j - 1, y[bj] == "0" { bj += 1 }
        let (la, lb) = (i - ai, j - bj)
        if la != lb { return la < lb ? -1 : 1 }
        for k in 0..<la where x[ai + k] != y[bj + k] { return x[ai + k].value < y[bj + k].value ? -1 : 1 }
        if i - si != j - sj { return i - si < j - sj ? -1 : 1 }
      } else {
        if x[i] != y[j] { return x[i].value < y[j].value ? -1 : 1 }
        i += 1
        j += 1
      }
    }
    if x.count - i != y.count - j { return x.count - i < y.count - j ? -1 : 1 }
    return 0
  }
}
