/// Compose's variable interpolation in values: `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alternative}`,
/// `${VAR+alternative}`, and `$$` for a literal `$`.
///
/// Unlike Compose, a variable that is unset and has no default is an error, not an empty
/// string (a silently empty image tag or port is worse than a refusal).
enum ComposeInterpolation {
  struct Failure: Error, Equatable {
    var message: String
  }

  static func expand(_ text: String, _ variables: [String: String]) throws(Failure) -> String {
    guard text.contains("$") else { return text }
    var out = ""
    let chars = Array(text)
    var i = 0
    func isNameStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
    func isName(_ c: Character) -> Bool { isNameStart(c) || (c.isASCII && c.isNumber) }
    while i < chars.count {
      let c = chars[i]
      guard c == "$", i + 1 < chars.count else {
        out.append(c)
        i += 1
        continue
      }
      let next = chars[i + 1]
      if next == "$" {
        out.append("$")
        i += 2
      } else if isNameStart(next) {
        var j = i + 1
        while j < chars.count, isName(chars[j]) { j += 1 }
        let name = String(chars[(i + 1)..<j])
        guard let v = variables[name] else { throw unset(name) }
        out += v
        i = j
      } else if next == "{" {
        // The matching `}`: a default may hold `${…}` itself.
        var depth = 1
        var j = i + 2
        while j < chars.count {
          if chars[j] == "}" {
            depth -= 1
            if depth == 0 { break }
          } else if chars[j] == "{", chars[j - 1] == "$" {
            depth += 1
          }
          j += 1
        }
        guard j < chars.count else {
          throw Failure(message: "`${` without a closing `}` in `\(text)`")
        }
        let close = j
        out += try braced(String(chars[(i + 2)..<close]), variables)
        i = close + 1
      } else {
        throw Failure(message: "`$` must start `${NAME}`, `$NAME` or `$$` (a literal `$`) in `\(text)`")
      }
    }
    return out
  }

  static func unset(_ name: String) -> Failure {
    Failure(message: "variable `\(name)` is not set (set it in the environment or `.env`, or give a default: `${\(name):-value}`)")
  }

  /// The inside of `${…}`.
  private static func braced(_ body: String, _ variables: [String: String]) throws(Failure) -> String {
    let nameEnd = body.firstIndex { !($0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber))) } ?? body.endIndex
    let name = String(body[..<nameEnd])
    guard let first = name.first, !first.isNumber else {
      throw Failure(message: "`${\(body)}` does not start with a variable name")
    }
    let rest = body[nameEnd...]
    let value = variables[name]
    if rest.isEmpty {
      guard let value else { throw unset(name) }
      return value
    }
    // `:-` treats an empty value as unset; `-` only an unset one. Likewise `:?`/`?`, `:+`/`+`.
    let colon = rest.hasPrefix(":")
    let op = colon ? rest.dropFirst() : rest
    guard let opChar = op.first, "-?+".contains(opChar) else {
      throw Failure(message: "`${\(body)}`: expected `:-`, `-`, `:?`, `?`, `:+` or `+` after the name")
    }
    let arg = try expand(String(op.dropFirst()), variables)
    let set = colon ? !(value ?? "").isEmpty : value != nil
    switch opChar {
    case "-": return set ? value! : arg
    case "+": return set ? arg : ""
    default:
      guard set, let value else {
        throw Failure(message: "variable `\(name)` is required: \(arg.isEmpty ? "it is not set" : arg)")
      }
      return value
    }
  }
}
