/// xc's `InterpolatedString` for entry point arguments and environ values: `$NAME`,
/// `${NAME}` and `${NAME:-default}` take values from the container's environment.
///
/// Unlike xc (which fails on an unset variable), a reference to an unset variable is left as
/// written, so a shell script passed as an argument (`sh -c 'echo $i'`) keeps its own
/// variables.
///
///     apply("hi ${WHO:-you} $N", ["N": "3"]) == "hi you 3"
enum Interpolation {
  static func apply(_ text: String, _ env: [String: String]) -> String {
    guard text.contains("$") else { return text }
    let chars = Array(text)
    var out = ""
    var i = 0
    func isIdentStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
    func isIdent(_ c: Character) -> Bool { isIdentStart(c) || (c.isASCII && c.isNumber) }
    while i < chars.count {
      let c = chars[i]
      guard c == "$", i + 1 < chars.count else {
        out.append(c)
        i += 1
        continue
      }
      if chars[i + 1] == "{", let close = chars[(i + 2)...].firstIndex(of: "}") {
        let body = String(chars[(i + 2)..<close])
        let original = String(chars[i...close])
        var name = body
        var fallback: String?
        if let range = body.range(of: ":-") {
          name = String(body[..<range.lowerBound])
          fallback = String(body[range.upperBound...])
        }
        if let first = name.first, isIdentStart(first), name.allSatisfy(isIdent) {
          out += env[name] ?? fallback.map { apply($0, env) } ?? original
        } else {
          out += original
        }
        i = close + 1
      } else if isIdentStart(chars[i + 1]) {
        var j = i + 1
        while j < chars.count && isIdent(chars[j]) { j += 1 }
        let name = String(chars[(i + 1)..<j])
        out += env[name] ?? "$" + name
        i = j
      } else {
        out.append(c)
        i += 1
      }
    }
    return out
  }
}
