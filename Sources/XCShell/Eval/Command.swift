/// A command: built-in, user function or object verb, all called the same way.
public protocol Command: Sendable {
  var signature: Signature { get }
  /// Runs with bound arguments and the pipeline input, returning the output.
  func run(_ call: Call, _ input: Pipe) throws -> Pipe
}

/// A built-in whose body is a Swift closure; most built-ins are defined this way, one per file area.
public struct Builtin: Command {
  public let signature: Signature
  let body: @Sendable (Call, Pipe) throws -> Pipe

  public init(_ signature: Signature, _ body: @escaping @Sendable (Call, Pipe) throws -> Pipe) {
    self.signature = signature
    self.body = body
  }

  public func run(_ call: Call, _ input: Pipe) throws -> Pipe { try body(call, input) }
}
