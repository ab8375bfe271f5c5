/// Duration and size unit suffixes, shared by the lexer and the value formatter.
enum Units {
  /// Nanoseconds per duration unit.
  static let durations: [(String, Int64)] = [
    ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("sec", 1_000_000_000),
    ("s", 1_000_000_000), ("min", 60_000_000_000), ("m", 60_000_000_000),
    ("hr", 3_600_000_000_000), ("h", 3_600_000_000_000), ("day", 86_400_000_000_000),
    ("d", 86_400_000_000_000), ("wk", 604_800_000_000_000), ("w", 604_800_000_000_000),
  ]
  /// Bytes per size unit; units are case-sensitive as written (`KB`, `KiB`, `kb` also accepted).
  static let sizes: [(String, Int64)] = [
    ("B", 1), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000), ("PB", 1_000_000_000_000_000),
    ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("PiB", 1 << 50),
    ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("kB", 1_000),
    ("b", 1), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
  ]

  static func duration(_ unit: String) -> Int64? { durations.first { $0.0 == unit }?.1 }
  static func size(_ unit: String) -> Int64? { sizes.first { $0.0 == unit }?.1 }
}
