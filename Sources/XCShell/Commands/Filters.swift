import Foundation
import Synchronization

/// Filters: commands that select, reorder and reshape rows. Row-by-row filters stream lazily.
enum FilterCommands {
  static let all: [any Command] = [
    whereCmd, each, parEach, select, reject, get, sortBy, sort, reverse, first, last, skip, take, length, reduce,
    groupBy, uniq, flatten, enumerate, append, prepend, insert, update, upsert, isEmpty, any, all_, columns, values,
    range, wrap, defaultCmd, merge, zip, compact, find, skipWhile, takeWhile, every, transpose, isNotEmpty,
  ]

  /// Evaluates a row condition or closure for one row.
  static func test(_ call: Call, _ c: Closure, _ row: Value) throws -> Bool {
    var v = try call.invoke(c, one: row)
    if case .closure(let inner) = v.kind { v = try call.invoke(inner, one: row) }
    return try v.condition(at: c.decl.span)
  }

  static let whereCmd = Builtin(
    Signature(
      "where", category: .filters, summary: "Keep the rows for which a condition holds.",
      parameters: [.required("condition", .condition, "A row condition (`size > 10`) or a closure.")],
      examples: [
        Example("Fields by bare name", "[{n: a, s: 2} {n: b, s: 5}] | where s > 3 | get n", result: #"["b"]"#),
        Example("With a closure", "[1 2 3 4] | where {|x| $x mod 2 == 0}", result: "[2,4]"),
      ])
  ) { call, input in
    let c = try call.closure("condition")!
    let s = try input.values()
    let ev = call.evaluator
    // Written out rather than through `filter`: this is the hottest loop of row filtering.
    return .stream(
      ValueStream(span: call.head) {
        while let v = try s.next() {
          try ev.checkInterrupt()
          if try test(call, c, v) { return v }
        }
        return nil
      })
  }

  static let each = Builtin(
    Signature(
      "each", category: .filters, summary: "Run a closure on each item; nulls are dropped.",
      parameters: [.required("closure", .closure, "Gets the item as its parameter and as `$in`.")],
      examples: [Example("Double", "[1 2 3] | each {|x| $x * 2}", result: "[2,4,6]")])
  ) { call, input in
    let c = try call.closure("closure")!
    let s = try input.values()
    let ev = call.evaluator
    return .stream(
      ValueStream(span: call.head) {
        while let v = try s.next() {
          try ev.checkInterrupt()
          let out = try call.invoke(c, one: v)
          if !out.isNull { return out }
        }
        return nil
      })
  }

  /// par-each's default width. A lazy static: Foundation reads the cgroup's CPU quota files for
  /// it, which a start-up that never runs par-each should not pay for.
  static let processorCount = Value.int(Int64(ProcessInfo.processInfo.activeProcessorCount))

  static let parEach = Builtin(
    Signature(
      "par-each", category: .filters,
      summary:
        "Run a closure on each item in parallel (each worker with its own variables and daemon connection); output keeps input order; the first failure cancels the rest.",
      parameters: [
        .required("closure", .closure, "Gets the item; runs on its own copy of the variables."),
        .named("threads", .int, short: "j", "How many at once.", computedDefault: { FilterCommands.processorCount }),
      ],
      examples: [Example("Squares", "1..4 | par-each -j 2 {|x| $x * $x}", result: "[1,4,9,16]")])
  ) { call, input in
    let c = try call.closure("closure")!
    let threads = max(1, Int(try call.int("threads") ?? 2))
    let items = try input.values()
    var list: [Value] = []
    while let v = try items.next() { list.append(v) }
    return .value(.list(try ParallelEach.run(list, c, threads: threads, call: call), call.head))
  }

  static let select = Builtin(
    Signature(
      "select", category: .filters, summary: "Keep only the given columns of each row (or of a record).",
      parameters: [.rest("columns", .cellPath, "Columns to keep, in this order.")],
      examples: [Example("Two columns", "{a: 1, b: 2, c: 3} | select c a", result: #"{"c":3,"a":1}"#)])
  ) { call, input in
    let cols = try call.restValues().map { try $0.asString() }
    // Each column's cell path is parsed once, not once per row.
    let paths = try cols.map { try Paths.members(.string($0, call.head)) }
    return try input.eachRow { v in
      let r = Value.record(try v.asRecord())
      var out = Record()
      for (c, members) in Swift.zip(cols, paths) {
        out[c] = (try? Paths.follow(r, members[...], at: call.head)) ?? .null
      }
      return .record(out, v.span)
    }
  }

  static let reject = Builtin(
    Signature(
      "reject", category: .filters, summary: "Drop the given columns of each row (or of a record).",
      parameters: [.rest("columns", .string, "Columns to drop.")],
      examples: [Example("Drop one", "{a: 1, b: 2} | reject a", result: #"{"b":2}"#)])
  ) { call, input in
    let cols = Set(try call.restValues().map { try $0.asString() })
    return try input.eachRow { v in
      var r = try v.asRecord()
      for c in cols { r[c] = nil }
      return .record(r, v.span)
    }
  }

  static let get = Builtin(
    Signature(
      "get", category: .filters, summary: "Take a field, an index or a column (cell path).",
      parameters: [
        .required("path", .cellPath, "`name`, `0`, `a.b.0`; a trailing `?` gives null when missing."),
        .switch("optional", short: "o", "Null instead of an error when missing."),
      ],
      examples: [Example("A column", "[{a: 1} {a: 2}] | get a", result: "[1,2]")])
  ) { call, input in
    var members = try Paths.members(try call.require("path"))
    if call.has("optional") {
      members = members.map {
        switch $0 {
        case .name(let n, let s, _): .name(n, s, optional: true)
        case .index(let i, let s, _): .index(i, s, optional: true)
        }
      }
    }
    let v = try input.collectItems()
    return .value(try Paths.follow(v, members[...], at: call.head))
  }

  /// A sort or group key: a closure to call, or a cell path parsed once for every row.
  enum Key {
    case closure(Closure)
    /// `field` is the name when the path is one name (`sort-by size`), the common case, which
    /// a record answers without following the path.
    case path([PathMember], Span, field: String?)

    init(_ v: Value) throws {
      if case .closure(let c) = v.kind {
        self = .closure(c)
      } else {
        let members = try Paths.members(v)
        var field: String? = nil
        if members.count == 1, case .name(let name, _, _) = members[0] { field = name }
        self = .path(members, v.span, field: field)
      }
    }

    func of(_ row: Value, _ call: Call) throws -> Value {
      switch self {
      case .closure(let c):
        return try call.invoke(c, one: row)
      case .path(let members, let span, let field):
        // What `Paths.follow` gives first for a record's field, without copying the row.
        if let field, case .record(let r) = row.kind, let i = r.index(of: field) { return r.values[i] }
        return try Paths.follow(row, members[...], at: span)
      }
    }
  }

  /// `rows` in the order of their keys: `columns[k][i]` is row `i`'s key `k` (most significant
  /// first, every column as long as `rows`). Stable: rows with equal keys keep their order, also
  /// when reversed.
  static func sorted(
    _ rows: consuming [Value], columns: [[Value]], reverse: Bool, natural: Bool = false, at span: Span
  ) throws -> [Value] {
    // One int or string key per row, the common case: sort the raw keys, not values.
    if columns.count == 1, !natural {
      if let order = SortOrder.ints(columns[0], reverse: reverse) ?? SortOrder.strings(columns[0], reverse: reverse) {
        SortOrder.permute(&rows, by: order)
        return rows
      }
    }
    var failure: (any Error)? = nil
    let order = Array(rows.indices).sorted { a, b in
      if failure != nil { return false }
      do {
        for column in columns {
          let x = column[a]
          let y = column[b]
          let c: Int
          if natural, case .string(let s) = x.kind, case .string(let t) = y.kind {
            c = NaturalOrder.compare(s, t)
          } else {
            c = try Operators.compare(x, y, "sort", at: span)
          }
          if c != 0 { return reverse ? c > 0 : c < 0 }
        }
        return a < b
      } catch {
        failure = error
        return false
      }
    }
    if let failure { throw failure }
    SortOrder.permute(&rows, by: order)
    return rows
  }

  static let sortBy = Builtin(
    Signature(
      "sort-by", category: .filters, summary: "Sort rows by one or more columns (or closures).",
      parameters: [
        .rest("columns", .any, "Columns (cell paths) or closures, most significant first."),
        .switch("reverse", short: "r", "Descending order."),
        .switch("natural", short: "n", "Numbers inside text by value: `worker-2` before `worker-10`."),
      ],
      examples: [
        Example("Largest first", "[{n: a, s: 2} {n: b, s: 5}] | sort-by s -r | get n", result: #"["b","a"]"#),
        Example("Names with numbers", "[{name: w-10} {name: w-2}] | sort-by name --natural | get name", result: #"["w-2","w-10"]"#),
      ])
  ) { call, input in
    let keys = call.restValues()
    guard !keys.isEmpty else { throw ShellError(.argsMissing, "`sort-by` needs at least one column", at: call.span) }
    let rows = try input.collect().asList()
    let parsed = try keys.map(Key.init)
    // Row by row, each row's keys in turn (the order a closure key runs in), into one column per key.
    let columns: [[Value]]
    if parsed.count == 1 {
      let key = parsed[0]
      columns = [try rows.map { try key.of($0, call) }]
    } else {
      var made = [[Value]](repeating: [], count: parsed.count)
      for k in made.indices { made[k].reserveCapacity(rows.count) }
      for row in rows {
        for k in parsed.indices { made[k].append(try parsed[k].of(row, call)) }
      }
      columns = made
    }
    let out = try sorted(rows, columns: columns, reverse: call.has("reverse"), natural: call.has("natural"), at: call.head)
    return .value(.list(out, call.head))
  }

  static let sort = Builtin(
    Signature(
      "sort", category: .filters, summary: "Sort values.",
      parameters: [
        .switch("reverse", short: "r", "Descending order."),
        .switch("natural", short: "n", "Numbers inside text by value: `a2` before `a10`."),
      ],
      examples: [
        Example("Numbers", "[3 1 2] | sort", result: "[1,2,3]"),
        Example("Natural order", "[a10 a2 a1] | sort --natural", result: #"["a1","a2","a10"]"#),
      ])
  ) { call, input in
    let rows = try input.collectItems().asList()
    return .value(
      .list(
        try sorted(rows, columns: [rows], reverse: call.has("reverse"), natural: call.has("natural"), at: call.head),
        call.head))
  }

  static let reverse = Builtin(
    Signature(
      "reverse", category: .filters, summary: "Reverse the order of items.",
      examples: [Example("", "[1 2 3] | reverse", result: "[3,2,1]")])
  ) { call, input in
    .value(.list(try input.collectItems().asList().reversed(), call.head))
  }

  static let first = Builtin(
    Signature(
      "first", category: .filters, summary: "The first item, or the first N items as a list.",
      parameters: [.optional("count", .int, "How many.")],
      examples: [Example("", "[1 2 3] | first 2", result: "[1,2]"), Example("", "[1 2 3] | first", result: "1")])
  ) { call, input in
    let s = try input.values()
    guard let n = try call.int("count") else {
      guard let v = try s.next() else { throw ShellError(.valueEmpty, "`first` of an empty input", at: call.head) }
      return .value(v)
    }
    var out: [Value] = []
    while out.count < n, let v = try s.next() { out.append(v) }
    return .value(.list(out, call.head))
  }

  static let last = Builtin(
    Signature(
      "last", category: .filters, summary: "The last item, or the last N items as a list.",
      parameters: [.optional("count", .int, "How many.")],
      examples: [Example("", "[1 2 3] | last", result: "3")])
  ) { call, input in
    let items = try input.collectItems().asList()
    guard let n = try call.int("count") else {
      guard let v = items.last else { throw ShellError(.valueEmpty, "`last` of an empty input", at: call.head) }
      return .value(v)
    }
    return .value(.list(Array(items.suffix(Int(max(0, n)))), call.head))
  }

  static let skip = Builtin(
    Signature(
      "skip", category: .filters, summary: "Skip the first N items (1 by default).",
      parameters: [.optional("count", .int, "How many.", default: .int(1))],
      examples: [Example("", "[1 2 3] | skip 1", result: "[2,3]")])
  ) { call, input in
    let n = try call.int("count") ?? 1
    let s = try input.values()
    var skipped: Int64 = 0
    return .stream(
      ValueStream(span: call.head) {
        while skipped < n {
          guard try s.next() != nil else { return nil }
          skipped += 1
        }
        return try s.next()
      })
  }

  static let take = Builtin(
    Signature(
      "take", category: .filters, summary: "The first N items, lazily.",
      parameters: [.required("count", .int, "How many.")],
      examples: [Example("", "1.. | take 3", result: "[1,2,3]")])
  ) { call, input in
    let n = try call.int("count") ?? 0
    let s = try input.values()
    var taken: Int64 = 0
    return .stream(
      ValueStream(span: call.head) {
        guard taken < n else { return nil }
        taken += 1
        return try s.next()
      })
  }

  static let length = Builtin(
    Signature(
      "length", category: .filters, summary: "The number of items (or of a record's fields).",
      examples: [Example("", "[1 2 3] | length", result: "3")])
  ) { call, input in
    switch input {
    case .value(let v):
      switch v.kind {
      case .list(let l): return .value(.int(l.count, call.head))
      case .range(let r):
        guard let n = r.count else {
          let why = r.end == nil ? "cannot count an unbounded range" : "the range has more items than an int can count"
          throw ShellError(.valueUnbounded, why, at: v.span.isKnown ? v.span : call.head)
        }
        return .value(.int(n, call.head))
      case .null: return .value(.int(0, call.head))
      case .record(let r): return .value(.int(r.count, call.head))
      default:
        throw ShellError(
          .typeMismatch, "`length` counts items of a list, found \(v.typeName)", at: call.head,
          help: v.typeName == "string" ? "use `str length` for the length of a string" : nil)
      }
    default:
      let s = try input.values()
      var n: Int64 = 0
      while try s.next() != nil {
        n += 1
        if n & 0xFFF == 0 { try call.evaluator.checkInterrupt() }
      }
      return .value(.int(n, call.head))
    }
  }

  static let reduce = Builtin(
    Signature(
      "reduce", category: .filters, summary: "Combine items into one value: the closure gets (item, accumulator).",
      parameters: [
        .required("closure", .closure, "`{|it, acc| ...}`"),
        .named("fold", .any, short: "f", "The starting value (else the first item)."),
      ],
      examples: [Example("Sum", "[1 2 3] | reduce {|it, acc| $acc + $it}", result: "6")])
  ) { call, input in
    let c = try call.closure("closure")!
    let s = try input.values()
    var acc: Value
    if let f = call.value("fold") { acc = f } else {
      guard let v = try s.next() else { throw ShellError(.valueEmpty, "`reduce` of an empty input needs --fold", at: call.head) }
      acc = v
    }
    while let v = try s.next() {
      try call.evaluator.checkInterrupt()
      acc = try call.invoke(c, [v, acc])
    }
    return .value(acc)
  }

  static let groupBy = Builtin(
    Signature(
      "group-by", category: .filters, summary: "Group rows into a record of lists by a column or closure.",
      parameters: [.required("key", .any, "A column or a closure giving the group.")],
      examples: [Example("By parity", "[1 2 3] | group-by {|x| $x mod 2 | into string} | get '1'", result: "[1,3]")])
  ) { call, input in
    let key = try Key(try call.require("key"))
    // The groups' lists grown in place: taking a list out of a record, appending and putting it
    // back would copy the whole group for every row.
    var names: [String] = []
    var lists: [[Value]] = []
    var index: [String: Int] = [:]
    let s = try input.values()
    while let v = try s.next() {
      let name = try key.of(v, call).plain
      if let i = index[name] {
        lists[i].append(v)
      } else {
        index[name] = names.count
        names.append(name)
        lists.append([v])
      }
    }
    return .value(.record(Record(distinctKeys: names, values: lists.map { .list($0) }), call.head))
  }

  static let uniq = Builtin(
    Signature(
      "uniq", category: .filters, summary: "Drop repeated values, keeping the first of each.",
      examples: [Example("", "[1 2 1 3 2] | uniq", result: "[1,2,3]")])
  ) { call, input in
    var seen: [Value] = []
    var keys = Set<String>()
    let s = try input.values()
    while let v = try s.next() {
      let k = v.typeName + ":" + v.toJSON()
      if keys.insert(k).inserted { seen.append(v) }
    }
    return .value(.list(seen, call.head))
  }

  static let flatten = Builtin(
    Signature(
      "flatten", category: .filters, summary: "Flatten nested lists by one level.",
      examples: [Example("", "[[1 2] [3] 4] | flatten", result: "[1,2,3,4]")])
  ) { call, input in
    var out: [Value] = []
    let s = try input.values()
    while let v = try s.next() {
      if case .list(let inner) = v.kind { out.append(contentsOf: inner) } else { out.append(v) }
    }
    return .value(.list(out, call.head))
  }

  static let enumerate = Builtin(
    Signature(
      "enumerate", category: .filters, summary: "Pair each item with its index: {index, item}.",
      examples: [Example("", "[a b] | enumerate | get 1.index", result: "1")])
  ) { call, input in
    let s = try input.values()
    var i: Int64 = 0
    return .stream(
      ValueStream(span: call.head) {
        guard let v = try s.next() else { return nil }
        defer { i += 1 }
        return .record(Record([("index", .int(i)), ("item", v)]))
      })
  }

  static let append = Builtin(
    Signature(
      "append", category: .filters, summary: "Add items at the end (a list argument adds each item).",
      parameters: [.required("items", .any, "A value or a list.")],
      examples: [Example("", "[1 2] | append 3", result: "[1,2,3]")])
  ) { call, input in
    var list = try input.collectItems().listOrSingle()
    list.append(contentsOf: try call.require("items").listOrSingle())
    return .value(.list(list, call.head))
  }

  static let prepend = Builtin(
    Signature(
      "prepend", category: .filters, summary: "Add items at the start.",
      parameters: [.required("items", .any, "A value or a list.")],
      examples: [Example("", "[2 3] | prepend 1", result: "[1,2,3]")])
  ) { call, input in
    .value(.list(try call.require("items").listOrSingle() + (try input.collectItems().listOrSingle()), call.head))
  }

  static func setField(_ call: Call, _ input: Pipe, mode: String) throws -> Pipe {
    let field = try call.require("field").asString()
    let value = try call.require("value")
    func apply(_ row: Value) throws -> Value {
      var r = try row.asRecord()
      let exists = r[field] != nil
      if mode == "insert" && exists {
        throw ShellError(.recordExists, "field `\(field)` already exists", at: call.head, help: "use `update` or `upsert`")
      }
      if mode == "update" && !exists {
        throw ShellError(.pathMissing, "no field `\(field)` to update", at: call.head, help: "use `insert` or `upsert`")
      }
      var v = value
      if case .closure(let c) = value.kind { v = try call.invoke(c, [row]) }
      r[field] = v
      return .record(r, row.span)
    }
    return try input.eachRow(apply)
  }

  static func fieldSignature(_ name: String, _ summary: String, _ example: Example) -> Signature {
    Signature(
      name, category: .filters, summary: summary,
      parameters: [
        .required("field", .string, "The field."),
        .required("value", .any, "The value, or a closure computing it from the row."),
      ], examples: [example])
  }

  static let insert = Builtin(
    fieldSignature("insert", "Add a field to each row (error if present).", Example("", "{a: 1} | insert b 2", result: #"{"a":1,"b":2}"#))
  ) { try setField($0, $1, mode: "insert") }
  static let update = Builtin(
    fieldSignature("update", "Change a field of each row (error if absent).", Example("", "{a: 1} | update a {|r| $r.a + 1}", result: #"{"a":2}"#))
  ) { try setField($0, $1, mode: "update") }
  static let upsert = Builtin(
    fieldSignature("upsert", "Set a field of each row.", Example("", "{a: 1} | upsert b 3", result: #"{"a":1,"b":3}"#))
  ) { try setField($0, $1, mode: "upsert") }

  static let isEmpty = Builtin(
    Signature(
      "is-empty", category: .filters, summary: "Whether the input is empty (no items, empty string or record, null).",
      examples: [Example("", "[] | is-empty", result: "true")])
  ) { call, input in
    let v = try input.collect()
    return .value(.bool(v.isEmptyValue, call.head))
  }

  static let isNotEmpty = Builtin(
    Signature(
      "is-not-empty", category: .filters, summary: "Whether the input has something in it.",
      examples: [Example("", "[1] | is-not-empty", result: "true")])
  ) { call, input in
    .value(.bool(!(try input.collect()).isEmptyValue, call.head))
  }

  static let any = Builtin(
    Signature(
      "any", category: .filters, summary: "Whether any item satisfies the closure.",
      parameters: [.required("predicate", .closure, "")],
      examples: [Example("", "[1 2 3] | any {|x| $x > 2}", result: "true")])
  ) { call, input in
    let c = try call.closure("predicate")!
    let s = try input.values()
    while let v = try s.next() { if try test(call, c, v) { return .value(.bool(true, call.head)) } }
    return .value(.bool(false, call.head))
  }

  static let all_ = Builtin(
    Signature(
      "all", category: .filters, summary: "Whether every item satisfies the closure.",
      parameters: [.required("predicate", .closure, "")],
      examples: [Example("", "[1 2 3] | all {|x| $x > 0}", result: "true")])
  ) { call, input in
    let c = try call.closure("predicate")!
    let s = try input.values()
    while let v = try s.next() { if !(try test(call, c, v)) { return .value(.bool(false, call.head)) } }
    return .value(.bool(true, call.head))
  }

  static let columns = Builtin(
    Signature(
      "columns", category: .filters, summary: "The column names of a record or table.",
      examples: [Example("", "{a: 1, b: 2} | columns", result: #"["a","b"]"#)])
  ) { call, input in
    let v = try input.collect()
    if let r = v.recordValue { return .value(.list(r.keys.map { .string($0) }, call.head)) }
    var cols: [String] = []
    for row in try v.asList() { for k in row.recordValue?.keys ?? [] where !cols.contains(k) { cols.append(k) } }
    return .value(.list(cols.map { .string($0) }, call.head))
  }

  static let values = Builtin(
    Signature(
      "values", category: .filters, summary: "The values of a record's fields.",
      examples: [Example("", "{a: 1, b: 2} | values", result: "[1,2]")])
  ) { call, input in
    .value(.list(try input.collect().asRecord().values, call.head))
  }

  static let range = Builtin(
    Signature(
      "range", category: .filters, summary: "The items whose indexes fall in a range.",
      parameters: [.required("rows", .range, "Indexes, e.g. 1..2.")],
      examples: [Example("", "[a b c d] | range 1..2", result: #"["b","c"]"#)])
  ) { call, input in
    guard case .range(let r) = try call.require("rows").kind else { throw ShellError(.argsValue, "expected a range", at: call.span) }
    let s = try input.values()
    var i: Int64 = 0
    var out: [Value] = []
    while let v = try s.next() {
      if r.contains(i) { out.append(v) }
      i += 1
      if let end = r.end, i > end { break }
    }
    return .value(.list(out, call.head))
  }

  static let wrap = Builtin(
    Signature(
      "wrap", category: .filters, summary: "Put each item in a record under a column name.",
      parameters: [.required("name", .string, "The column.")],
      examples: [Example("", "[1 2] | wrap n | get 1.n", result: "2")])
  ) { call, input in
    let name = try call.require("name").asString()
    if case .value(let v) = input, case .list = v.kind {} else if case .value(let v) = input {
      return .value(.record(Record([(name, v)]), call.head))
    }
    return .stream(try input.values().map { .record(Record([(name, $0)])) })
  }

  static let defaultCmd = Builtin(
    Signature(
      "default", category: .filters, summary: "The input, or a default when it is null (or a column default).",
      parameters: [
        .required("value", .any, "The default."),
        .optional("column", .string, "Fill this column of each row instead."),
      ],
      examples: [Example("", "null | default 5", result: "5")])
  ) { call, input in
    let d = try call.require("value")
    if let col = try call.string("column") {
      func fill(_ row: Value) throws -> Value {
        var r = try row.asRecord()
        if r[col] == nil || r[col]!.isNull { r[col] = d }
        return .record(r, row.span)
      }
      return try input.eachRow(fill)
    }
    let v = try input.collect()
    return .value(v.isNull ? d : v)
  }

  static let merge = Builtin(
    Signature(
      "merge", category: .filters, summary: "Merge a record's fields into the input record (or each row).",
      parameters: [.required("record", .record, "Fields to set.")],
      examples: [Example("", "{a: 1} | merge {b: 2}", result: #"{"a":1,"b":2}"#)])
  ) { call, input in
    let extra = try call.require("record").asRecord()
    return try input.eachRow { row in
      var r = try row.asRecord()
      for (k, v) in extra { r[k] = v }
      return .record(r, row.span)
    }
  }

  static let zip = Builtin(
    Signature(
      "zip", category: .filters, summary: "Pair items with the items of another list.",
      parameters: [.required("other", .list, "The other list.")],
      examples: [Example("", "[1 2] | zip [a b] | get 1", result: #"[2,"b"]"#)])
  ) { call, input in
    let a = try input.collectItems().asList()
    let b = try call.require("other").asList()
    return .value(.list(Swift.zip(a, b).map { .list([$0, $1]) }, call.head))
  }

  static let compact = Builtin(
    Signature(
      "compact", category: .filters, summary: "Drop null items.",
      examples: [Example("", "[1 null 2] | compact", result: "[1,2]")])
  ) { call, input in
    return .stream(try input.values().filter(span: call.head) { !$0.isNull })
  }

  static let find = Builtin(
    Signature(
      "find", category: .filters, summary: "Items whose text contains a term (case-insensitive).",
      parameters: [.required("term", .string, "What to look for.")],
      examples: [Example("", "[apple banana] | find AN", result: #"["banana"]"#)])
  ) { call, input in
    let term = try call.require("term").asString().lowercased()
    return .stream(try input.values().filter(span: call.head) { term.isEmpty || $0.plain.lowercased().contains(term) })
  }

  static let skipWhile = Builtin(
    Signature(
      "skip while", category: .filters, summary: "Skip items while the closure holds.",
      parameters: [.required("predicate", .closure, "")],
      examples: [Example("", "[1 2 3 1] | skip while {|x| $x < 3}", result: "[3,1]")])
  ) { call, input in
    let c = try call.closure("predicate")!
    var skipping = true
    return .stream(
      try input.values().filter(span: call.head) { v in
        if skipping, try test(call, c, v) { return false }
        skipping = false
        return true
      })
  }

  static let takeWhile = Builtin(
    Signature(
      "take while", category: .filters, summary: "Take items while the closure holds.",
      parameters: [.required("predicate", .closure, "")],
      examples: [Example("", "[1 2 3 1] | take while {|x| $x < 3}", result: "[1,2]")])
  ) { call, input in
    let c = try call.closure("predicate")!
    let s = try input.values()
    var done = false
    return .stream(
      ValueStream(span: call.head) {
        guard !done, let v = try s.next() else { return nil }
        if try test(call, c, v) { return v }
        done = true
        return nil
      })
  }

  static let every = Builtin(
    Signature(
      "every", category: .filters, summary: "Every Nth item.",
      parameters: [.required("stride", .int, "Keep one in this many.")],
      examples: [Example("", "[1 2 3 4 5] | every 2", result: "[1,3,5]")])
  ) { call, input in
    let n = try call.int("stride") ?? 1
    guard n > 0 else { throw ShellError(.argsValue, "stride must be positive", at: call.span) }
    let s = try input.values()
    var i: Int64 = 0
    return .stream(
      ValueStream(span: call.head) {
        while let v = try s.next() {
          defer { i += 1 }
          if i % n == 0 { return v }
        }
        return nil
      })
  }

  static let transpose = Builtin(
    Signature(
      "transpose", category: .filters, summary: "Turn a record into a table of {column, value} rows.",
      examples: [Example("", "{a: 1} | transpose | get 0.column", result: "a")])
  ) { call, input in
    let r = try input.collect().asRecord()
    return .value(.list(r.map { .record(Record([("column", .string($0)), ("value", $1)])) }, call.head))
  }
}

extension Pipe {
  /// Applies `f` to a record input, or to each row of a list or stream (lazily).
  func eachRow(_ f: @escaping (Value) throws -> Value) throws -> Pipe {
    if case .value(let v) = self, v.recordValue != nil { return .value(try f(v)) }
    return .stream(try values().map(f))
  }
}

extension Value {
  /// A list's items, or the value itself as a one-item list.
  func listOrSingle() throws -> [Value] {
    switch kind {
    case .list(let l): return l
    case .range: return try asList()
    case .null: return []
    default: return [self]
    }
  }

  var isEmptyValue: Bool {
    switch kind {
    case .null: true
    case .list(let l): l.isEmpty
    case .string(let s): s.isEmpty
    case .record(let r): r.isEmpty
    case .bytes(let b): b.isEmpty
    default: false
    }
  }
}

/// Runs a closure over items on several threads, in order, stopping at the first failure.
enum ParallelEach {
  static func run(_ items: [Value], _ closure: Closure, threads: Int, call: Call) throws -> [Value] {
    if items.isEmpty { return [] }
    let state = ParallelState(count: items.count)
    let workers = min(threads, items.count)
    let group = DispatchGroup()
    let parent = call.evaluator
    for _ in 0..<workers {
      group.enter()
      let (worker, copy) = parent.worker(running: closure, cancellation: state.cancelled)
      let box = UncheckedBox((worker, copy, call.head))
      let thread = Thread {
        defer { group.leave() }
        let (ev, c, head) = box.value
        while let i = state.claim() {
          do {
            let out = try ev.invoke(c, [items[i]], at: head)
            state.store(out, at: i)
          } catch {
            state.fail(error, at: i)
            return
          }
        }
      }
      // Workers evaluate closures as deeply as the main evaluator may recurse.
      thread.stackSize = 64 << 20
      thread.start()
    }
    group.wait()
    try parent.checkInterrupt()
    if let e = state.firstError { throw e }
    return state.results.compactMap { $0 }.filter { !$0.isNull }
  }
}

/// A flag set once, read from any thread without a lock (checked at every interrupt check).
public final class CancelFlag: Sendable {
  private let value = Atomic<Bool>(false)
  public init() {}
  public func set() { value.store(true, ordering: .releasing) }
  public var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Shared progress of a `par-each`: the next index, the results and the first failure.
final class ParallelState: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private let count: Int
  private(set) var results: [Value?]
  private var failure: (index: Int, error: any Error, cancel: Bool)? = nil

  init(count: Int) {
    self.count = count
    results = Array(repeating: nil, count: count)
  }

  func claim() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard failure == nil, next < count else { return nil }
    defer { next += 1 }
    return next
  }

  func store(_ v: Value, at i: Int) {
    lock.lock()
    results[i] = v
    lock.unlock()
  }

  /// Set at the first failure: running items stop at their next interrupt check.
  let cancelled = CancelFlag()

  func fail(_ e: any Error, at i: Int) {
    lock.lock()
    // Items stopped because another failed do not count; of real failures the earliest item's
    // wins, so the error is the same on every run.
    let isCancel = (e as? ShellError)?.code == .cancelled
    if !isCancel, failure == nil || failure!.cancel || i < failure!.index { failure = (i, e, false) }
    if isCancel, failure == nil { failure = (i, e, true) }
    lock.unlock()
    cancelled.set()
  }

  var firstError: (any Error)? {
    lock.lock()
    defer { lock.unlock() }
    return failure?.error
  }
}
