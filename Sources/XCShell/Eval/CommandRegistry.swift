/// The table of built-in commands, looked up by full name (`"str upcase"`).
public final class CommandRegistry: ParserContext, @unchecked Sendable {
  private var commands: [String: any Command] = [:]
  private var groups: Set<String> = []

  public init(_ list: [any Command] = []) {
    for c in list { register(c) }
  }

  public func register(_ c: any Command) {
    commands[c.signature.name] = c
    let words = c.signature.name.split(separator: " ")
    if words.count > 1 { groups.insert(String(words[0])) }
  }

  public func command(_ name: String) -> (any Command)? { commands[name] }

  public var names: [String] { Array(commands.keys) }
  public var all: [any Command] { commands.values.sorted { $0.signature.name < $1.signature.name } }

  public func isCommand(_ name: String) -> Bool { commands[name] != nil || groups.contains(name) }

  public func takesCondition(_ name: String) -> Bool {
    commands[name]?.signature.parameters.first { !$0.isFlag }?.shape == .condition
  }

  /// Whether `name` is a group of sub-commands (`str`, `math`).
  public func isGroup(_ name: String) -> Bool { groups.contains(name) }
}
