import Foundation

/// `math …`: aggregates over lists and functions of numbers.
enum MathCommands {
  static let all: [any Command] = [sum, product, min, max, avg, median, abs, round, floor, ceil, sqrt]

  static func numbers(_ input: Pipe, _ call: Call) throws -> [Value] {
    let s = try input.values()
    var out: [Value] = []
    while let v = try s.next() {
      switch v.kind {
      case .int, .float, .duration, .size: out.append(v)
      default: throw ShellError.typeMismatch(expected: "number", found: v).located(at: call.head, note: "needs numbers")
      }
    }
    return out
  }

  static func aggregate(_ name: String, _ summary: String, _ example: Example, _ f: @escaping @Sendable ([Value], Call) throws -> Value) -> Builtin {
    Builtin(Signature(name, category: .math, summary: summary, examples: [example])) { call, input in
      .value(try f(try numbers(input, call), call).with(span: call.head))
    }
  }

  static let sum = aggregate("math sum", "The sum of the numbers.", Example("", "[1 2 3] | math sum", result: "6")) { xs, call in
    guard var acc = xs.first else { return .int(0) }
    for x in xs.dropFirst() { acc = try Operators.add(acc, x, at: call.head) }
    return acc
  }
  static let product = aggregate("math product", "The product of the numbers.", Example("", "[2 3 4] | math product", result: "24")) { xs, call in
    var acc = Value.int(1)
    for x in xs { acc = try Operators.multiply(acc, x, at: call.head) }
    return acc
  }
  static let min = aggregate("math min", "The smallest number.", Example("", "[3 1 2] | math min", result: "1")) { xs, call in
    guard var best = xs.first else { throw ShellError(.valueEmpty, "`math min` of an empty list", at: call.head) }
    for x in xs.dropFirst() where try Operators.compare(x, best, "<", at: call.head) < 0 { best = x }
    return best
  }
  static let max = aggregate("math max", "The largest number.", Example("", "[3 1 2] | math max", result: "3")) { xs, call in
    guard var best = xs.first else { throw ShellError(.valueEmpty, "`math max` of an empty list", at: call.head) }
    for x in xs.dropFirst() where try Operators.compare(x, best, ">", at: call.head) > 0 { best = x }
    return best
  }
  static let avg = aggregate("math avg", "The mean.", Example("", "[1 2 3 4] | math avg", result: "2.5")) { xs, call in
    guard !xs.isEmpty else { throw ShellError(.valueEmpty, "`math avg` of an empty list", at: call.head) }
    var acc = xs[0]
    for x in xs.dropFirst() { acc = try Operators.add(acc, x, at: call.head) }
    return try Operators.divide(acc, .int(xs.count), at: call.head)
  }
  static let median = aggregate("math median", "The middle value.", Example("", "[3 1 2] | math median", result: "2")) { xs, call in
    guard !xs.isEmpty else { throw ShellError(.valueEmpty, "`math median` of an empty list", at: call.head) }
    let sorted = try FilterCommands.sorted(xs, columns: [xs], reverse: false, at: call.head)
    if sorted.count % 2 == 1 { return sorted[sorted.count / 2] }
    let sum = try Operators.add(sorted[sorted.count / 2 - 1], sorted[sorted.count / 2], at: call.head)
    return try Operators.divide(sum, .int(2), at: call.head)
  }

  static func unary(_ name: String, _ summary: String, _ example: Example, _ f: @escaping @Sendable (Value, Call) throws -> Value) -> Builtin {
    Builtin(Signature(name, category: .math, summary: summary, examples: [example])) { call, input in
      if case .value(let v) = input, case .list = v.kind {} else if case .value(let v) = input {
        return .value(try f(v, call).with(span: call.head))
      }
      return .value(.list(try numbers(input, call).map { try f($0, call) }, call.head))
    }
  }

  static let abs = unary("math abs", "The absolute value.", Example("", "-5 | math abs", result: "5")) { v, call in
    switch v.kind {
    case .int(let i): return i < 0 ? try Operators.negate(v, at: call.head) : .int(i)
    case .float(let d): return .float(Swift.abs(d))
    case .duration(let d): return Value(.duration(Swift.abs(d)))
    default: throw ShellError.typeMismatch(expected: "number", found: v)
    }
  }
  /// An integral double as an int when it fits, else as a float.
  static func integral(_ d: Double) -> Value {
    d.isFinite && d >= -9.2e18 && d <= 9.2e18 ? .int(Int64(d)) : .float(d)
  }
  static let floor = unary("math floor", "Round down.", Example("", "2.7 | math floor", result: "2")) { v, _ in
    integral(try v.asDouble().rounded(.down))
  }
  static let ceil = unary("math ceil", "Round up.", Example("", "2.1 | math ceil", result: "3")) { v, _ in
    integral(try v.asDouble().rounded(.up))
  }
  static let sqrt = unary("math sqrt", "The square root.", Example("", "16 | math sqrt", result: "4.0")) { v, call in
    let d = try v.asDouble()
    guard d >= 0 else { throw ShellError(.mathDomain, "square root of a negative number", at: call.head) }
    return .float(d.squareRoot())
  }
  static let round = Builtin(
    Signature(
      "math round", category: .math, summary: "Round to the nearest integer, or to N decimals.",
      parameters: [.named("precision", .int, short: "p", "Decimal places.")],
      examples: [Example("", "3.14159 | math round -p 2", result: "3.14")])
  ) { call, input in
    let p = try call.int("precision")
    func r(_ v: Value) throws -> Value {
      let d = try v.asDouble()
      guard let p else { return integral(d.rounded()) }
      let m = pow(10.0, Double(p))
      // Past double precision there is nothing left to round.
      guard m.isFinite, (d * m).isFinite else { return .float(d) }
      return .float((d * m).rounded() / m)
    }
    if case .value(let v) = input, case .list = v.kind {} else if case .value(let v) = input { return .value(try r(v)) }
    return .value(.list(try numbers(input, call).map(r), call.head))
  }
}
