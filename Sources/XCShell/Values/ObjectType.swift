import Synchronization

/// The name of a kind of daemon object (`container`, `image`, …).
///
/// The language knows no nouns of its own: the module that serves the objects (XCObjects, for
/// xc's daemon) registers each kind with `ObjectKinds.register`, and from then on the name is a
/// type in scripts (`fn f [c: container]`), a parameter shape and a terminal view.
public struct ObjectType: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
  public let rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(stringLiteral value: String) { self.rawValue = value }
  public var description: String { rawValue }
}

/// A registered kind of object and how a terminal shows it (only the display: `select`, `get`
/// and `--json` see every field).
public struct ObjectKind: Sendable {
  /// One shown field: a header, the field's path in the record and an optional reformatting.
  public struct Column: Sendable {
    public let header: String
    public let path: [String]
    public let format: (@Sendable (Value) -> Value)?
    public init(_ header: String, _ path: [String], format: (@Sendable (Value) -> Value)? = nil) {
      self.header = header
      self.path = path
      self.format = format
    }
  }

  public let type: ObjectType
  /// The columns of a compact table of these objects; empty for no curated table.
  public let columns: [Column]
  /// The fields of the one-line form of a brief object, in order (missing ones left out).
  public let brief: [Column]

  public init(_ type: ObjectType, columns: [Column] = [], brief: [Column]) {
    self.type = type
    self.columns = columns
    self.brief = brief
  }
}

/// The kinds registered so far. Registration happens once, as the commands that serve the objects
/// are set up, before any script is parsed; a later registration of the same name replaces it.
public enum ObjectKinds {
  private static let registry = Mutex<[ObjectType: ObjectKind]>([:])

  public static func register(_ kinds: [ObjectKind]) {
    registry.withLock { r in for k in kinds { r[k.type] = k } }
  }

  /// The kind of that type, if registered.
  public static func kind(of type: ObjectType) -> ObjectKind? { registry.withLock { $0[type] } }

  /// The kind a script's type name names, if one is registered under it.
  public static func kind(named name: String) -> ObjectKind? { kind(of: ObjectType(rawValue: name)) }
}
