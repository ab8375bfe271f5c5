/// One challenge of an HTTP `WWW-Authenticate` header (RFC 7235), as registries send them:
///
///     Basic realm="Registry Realm"
///     Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"
///
/// A header may carry several challenges separated by commas; parameters are `name=token`
/// or `name="quoted string"` (with `\` escapes). Scheme and parameter names are
/// case-insensitive and kept lowercased.
public struct AuthChallenge: Sendable, Equatable {
  /// The scheme, lowercased: `basic`, `bearer`, …
  public var scheme: String
  /// Parameters by lowercased name (`realm`, `service`, `scope`, `error`, …).
  public var parameters: [String: String]

  public init(scheme: String, parameters: [String: String] = [:]) {
    self.scheme = scheme
    self.parameters = parameters
  }

  public var realm: String? { parameters["realm"] }

  /// Every challenge in `header`, in order; unparsable trailing text is ignored.
  public static func parse(_ header: String) -> [AuthChallenge] {
    var scanner = Scanner(Array(header.utf8))
    var result: [AuthChallenge] = []
    while true {
      scanner.skip { $0 == UInt8(ascii: ",") || isSpace($0) }
      guard let scheme = scanner.token(), !scheme.isEmpty else { break }
      var challenge = AuthChallenge(scheme: scheme.lowercased())
      // Parameters follow until a token that is not followed by "=" (the next scheme).
      while true {
        let mark = scanner.position
        scanner.skip { $0 == UInt8(ascii: ",") || isSpace($0) }
        guard let name = scanner.token(), !name.isEmpty else {
          scanner.position = mark
          break
        }
        scanner.skip(isSpace)
        guard scanner.peek == UInt8(ascii: "=") else {
          scanner.position = mark  // a new challenge starts here
          break
        }
        scanner.advance()
        scanner.skip(isSpace)
        let value = scanner.peek == UInt8(ascii: "\"") ? scanner.quoted() : (scanner.token() ?? "")
        challenge.parameters[name.lowercased()] = value
      }
      result.append(challenge)
    }
    return result
  }

  private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

  /// A byte cursor over the header.
  private struct Scanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
    mutating func advance() { position += 1 }

    mutating func skip(_ predicate: (UInt8) -> Bool) {
      while let c = peek, predicate(c) { advance() }
    }

    /// An RFC 7230 token (also accepting the token68 characters `/`, `+`, `=` at its end
    /// would be ambiguous with parameters, so only `tchar`s are taken).
    mutating func token() -> String? {
      let start = position
      while let c = peek, Self.isTokenChar(c) { advance() }
      return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
    }

    /// A quoted string starting at `"`, with `\x` escapes; an unterminated one ends the input.
    mutating func quoted() -> String {
      advance()
      var out: [UInt8] = []
      while let c = peek {
        advance()
        if c == UInt8(ascii: "\"") { break }
        if c == UInt8(ascii: "\\"), let next = peek {
          out.append(next)
          advance()
        } else {
          out.append(c)
        }
      }
      return String(decoding: out, as: UTF8.self)
    }

    static func isTokenChar(_ c: UInt8) -> Bool {
      switch c {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
      default:
        return Array("!#$%&'*+-.^_`|~".utf8).contains(c)
      }
    }
  }
}
