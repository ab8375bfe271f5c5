/// Binary operators, resolved once by the parser so evaluation switches on an enum, not text.
public enum BinaryOp: String, Sendable {
  case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", remainder = "%"
  case power = "**", concat = "++"
  case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
  case matches = "=~", notMatches = "!~"
  case isIn = "in", notIn = "not-in", has = "has", notHas = "not-has"
  case startsWith = "starts-with", endsWith = "ends-with"
  case and = "and", or = "or", xor = "xor"

  /// The operator of a compound assignment (`+=` is `.add`); nil for plain `=`.
  static func compound(_ assignment: String) -> BinaryOp? {
    assignment == "=" ? nil : BinaryOp(rawValue: String(assignment.dropLast()))
  }
}
