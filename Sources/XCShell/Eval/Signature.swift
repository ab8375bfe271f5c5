/// The shape a parameter accepts; the binder checks arguments against it.
public indirect enum Shape: Sendable, Equatable {
  case any, int, float, number, string, bool, duration, size, datetime, list, record, table, closure
  /// A field name or row index (`get name`, `get 0`).
  case cellPath
  case range
  /// A row condition (`where size > 10`) or a closure; evaluated per row.
  case condition
  /// One of a fixed set of words (`--format json`).
  case oneOf([String])
  case object(ObjectType)

  public var name: String {
    switch self {
    case .any: "any"
    case .int: "int"
    case .float: "float"
    case .number: "number"
    case .string: "string"
    case .bool: "bool"
    case .duration: "duration"
    case .size: "size"
    case .datetime: "datetime"
    case .list: "list"
    case .record: "record"
    case .table: "table"
    case .closure: "closure"
    case .cellPath: "cell-path"
    case .range: "range"
    case .condition: "condition"
    case .oneOf(let words): words.joined(separator: "|")
    case .object(let t): t.rawValue
    }
  }

  /// The shape for a type name written in a script (`fn f [n: int]`).
  public static func named(_ name: String) -> Shape? {
    switch name {
    case "any": .any
    case "int": .int
    case "float": .float
    case "number": .number
    case "string", "path": .string
    case "bool": .bool
    case "duration": .duration
    case "size", "filesize": .size
    case "datetime": .datetime
    case "list": .list
    case "record": .record
    case "table": .table
    case "closure": .closure
    case "cell-path": .cellPath
    case "range": .range
    default: ObjectKinds.kind(named: name).map { .object($0.type) }
    }
  }
}

/// One parameter of a command.
public struct Parameter: Sendable {
  public enum Kind: Sendable, Equatable {
    case required, optional, rest
    /// `--name`: present or not.
    case `switch`
    /// `--name VALUE`.
    case named
  }
  public var name: String
  public var kind: Kind
  public var shape: Shape
  public var short: Character?
  public var summary: String
  /// The value when the parameter is not given.
  public var defaultValue: Value? {
    get { computedDefault?() ?? fixedDefault }
    set {
      fixedDefault = newValue
      computedDefault = nil
    }
  }
  private var fixedDefault: Value?
  /// A default read from the system (a processor count): asked when first needed, not when the
  /// command table is built at every start-up.
  private var computedDefault: (@Sendable () -> Value?)?

  init(
    name: String, kind: Kind, shape: Shape, short: Character? = nil, summary: String, defaultValue: Value? = nil,
    computedDefault: (@Sendable () -> Value?)? = nil
  ) {
    self.name = name
    self.kind = kind
    self.shape = shape
    self.short = short
    self.summary = summary
    self.fixedDefault = defaultValue
    self.computedDefault = computedDefault
  }

  public var isFlag: Bool { kind == .switch || kind == .named }

  public static func required(_ name: String, _ shape: Shape, _ summary: String) -> Parameter {
    Parameter(name: name, kind: .required, shape: shape, summary: summary)
  }
  public static func optional(_ name: String, _ shape: Shape, _ summary: String, default d: Value? = nil) -> Parameter {
    Parameter(name: name, kind: .optional, shape: shape, summary: summary, defaultValue: d)
  }
  public static func rest(_ name: String, _ shape: Shape, _ summary: String) -> Parameter {
    Parameter(name: name, kind: .rest, shape: shape, summary: summary)
  }
  public static func `switch`(_ name: String, short: Character? = nil, _ summary: String) -> Parameter {
    Parameter(name: name, kind: .switch, shape: .bool, short: short, summary: summary)
  }
  public static func named(_ name: String, _ shape: Shape, short: Character? = nil, _ summary: String, default d: Value? = nil) -> Parameter {
    Parameter(name: name, kind: .named, shape: shape, short: short, summary: summary, defaultValue: d)
  }
  /// `--name VALUE` whose default `d` is computed when first read (and each time after: `d`
  /// caches what it needs).
  public static func named(
    _ name: String, _ shape: Shape, short: Character? = nil, _ summary: String,
    computedDefault d: @escaping @Sendable () -> Value?
  ) -> Parameter {
    Parameter(name: name, kind: .named, shape: shape, short: short, summary: summary, computedDefault: d)
  }
}

/// Groups commands in `help`.
public enum Category: String, Sendable, CaseIterable {
  case core, filters, strings, math, formats, files, system, objects
}

/// A documented example; with a `result`, a test runs it and compares.
public struct Example: Sendable {
  public var summary: String
  public var code: String
  public var result: String?
  public init(_ summary: String, _ code: String, result: String? = nil) {
    self.summary = summary
    self.code = code
    self.result = result
  }
}

/// A command's interface as plain data: the binder, `help`, completion and `--check` all read it.
public struct Signature: Sendable {
  public var name: String
  public var category: Category
  public var summary: String
  public var parameters: [Parameter]
  public var examples: [Example]
  /// Extra paragraphs for `help NAME`.
  public var details: String
  /// External-like commands pass unknown flags through instead of rejecting them.
  public var acceptsAnyFlag: Bool

  public init(
    _ name: String, category: Category, summary: String, parameters: [Parameter] = [],
    examples: [Example] = [], details: String = "", acceptsAnyFlag: Bool = false
  ) {
    self.name = name
    self.category = category
    self.summary = summary
    self.parameters = parameters
    self.examples = examples
    self.details = details
    self.acceptsAnyFlag = acceptsAnyFlag
  }

  public func flag(named name: String) -> Parameter? {
    parameters.first { $0.isFlag && $0.name == name }
  }
  public func flag(short: Character) -> Parameter? {
    parameters.first { $0.isFlag && $0.short == short }
  }
  public var positionals: [Parameter] { parameters.filter { !$0.isFlag && $0.kind != .rest } }
  public var restParameter: Parameter? { parameters.first { $0.kind == .rest } }
}
