/// An image reference as xc parses it (`oci_util/src/image_reference.rs`):
/// `[host/]name:tag` or `[host/]name@sha256:<64 hex>`. A tag or digest is mandatory (no
/// implicit `latest`). The first `/`-separated component is the registry host only when it
/// is `localhost` or a dotted host name, optionally with `:port`; so `library/mariadb:10.9`
/// has no host and `localhost:5000/app:1` does.
///
/// The request types carry references as plain strings, spelled as the user wrote them (xcd
/// looks pull tasks up by that exact string). Parse with this type to validate before sending
/// (xcd drops the connection on a bad reference) or when serving.
///
///     let ref = try ImageReference(parsing: "localhost:5000/app:1")
///     ref.hostname   // "localhost:5000"
///     ref.name       // "app"
///     ref.tag        // .tag("1")
///
/// Stricter than xc in one way: trailing characters are an error (xc's grammar is not anchored
/// at the end and ignores them).
public struct ImageReference: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The tag or digest part.
  public enum Tag: Hashable, Sendable {
    /// `:tag`.
    case tag(String)
    /// `@sha256:<64 hex>` (the whole `sha256:…` string).
    case digest(String)
  }

  /// Why a string is not an image reference.
  public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rejected input.
    public var input: String
    /// What is wrong, one line.
    public var reason: String
    public var description: String { "invalid image reference \"\(input)\": \(reason)" }
  }

  /// The registry host (with port), if the reference names one.
  public var hostname: String?
  /// The repository name, e.g. `library/mariadb`.
  public var name: String
  /// The tag or digest.
  public var tag: Tag

  /// Creates a reference from its parts (not validated).
  public init(hostname: String? = nil, name: String, tag: Tag) {
    self.hostname = hostname
    self.name = name
    self.tag = tag
  }

  /// Parses and validates `text`.
  public init(parsing text: String) throws(ParseError) {
    func fail(_ reason: String) -> ParseError { ParseError(input: text, reason: reason) }
    let path: Substring
    if let at = text.firstIndex(of: "@") {
      path = text[..<at]
      let digest = text[text.index(after: at)...]
      guard digest.hasPrefix("sha256:"), digest.count == 7 + 64,
        digest.dropFirst(7).allSatisfy({ $0.isHexDigit && $0.isASCII })
      else { throw fail("a digest must be sha256: followed by 64 hex digits") }
      tag = .digest(String(digest))
    } else {
      // The tag's colon is the last one with no '/' after it (a host's port colon has one).
      guard let colon = text.lastIndex(of: ":"),
        !text[colon...].contains("/")
      else { throw fail("a tag (:tag) or digest (@sha256:…) is required") }
      path = text[..<colon]
      let t = text[text.index(after: colon)...]
      guard ImageReference.isValidTag(t) else {
        throw fail("a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
      }
      tag = .tag(String(t))
    }
    var host: Substring?
    var repo = path
    if let slash = path.firstIndex(of: "/"), ImageReference.isHostname(path[..<slash]) {
      host = path[..<slash]
      repo = path[path.index(after: slash)...]
    }
    guard ImageReference.isValidName(repo) else {
      throw fail(
        "the name must be '/'-separated components of letters and digits joined by '.', '_', '__' or dashes"
      )
    }
    hostname = host.map(String.init)
    name = String(repo)
  }

  /// The reference as xc prints it.
  public var description: String {
    let base = hostname.map { "\($0)/\(name)" } ?? name
    switch tag {
    case .tag(let t): return "\(base):\(t)"
    case .digest(let d): return "\(base)@\(d)"
    }
  }

  public init(from decoder: any Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    do {
      try self.init(parsing: s)
    } catch {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }

  // MARK: - Grammar

  private static func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }

  static func isValidTag(_ t: Substring) -> Bool {
    guard let first = t.first, t.count <= 128, isAlnum(first) || first == "_" else { return false }
    return t.allSatisfy { isAlnum($0) || $0 == "_" || $0 == "." || $0 == "-" }
  }

  /// `localhost` or `component(.component)+`, then an optional `:port` of 1-5 digits.
  static func isHostname(_ h: Substring) -> Bool {
    var host = h
    if let colon = h.firstIndex(of: ":") {
      let port = h[h.index(after: colon)...]
      guard (1...5).contains(port.count), port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
        return false
      }
      host = h[..<colon]
    }
    if host == "localhost" { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 2 else { return false }
    return parts.allSatisfy { p in
      guard let f = p.first, let l = p.last, isAlnum(f), isAlnum(l) else { return false }
      return p.allSatisfy { isAlnum($0) || $0 == "-" }
    }
  }

  /// Components of alphanumerics joined by `.`, `_`, `__` or runs of `-`, separated by `/`.
  static func isValidName(_ n: Substring) -> Bool {
    let components = n.split(separator: "/", omittingEmptySubsequences: false)
    guard !components.isEmpty else { return false }
    return components.allSatisfy { c in
      guard let f = c.first, let l = c.last, isAlnum(f), isAlnum(l) else { return false }
      var separator = ""
      for ch in c {
        if isAlnum(ch) {
          guard
            separator.isEmpty || separator == "." || separator == "_" || separator == "__"
              || separator.allSatisfy({ $0 == "-" })
          else { return false }
          separator = ""
        } else if ch == "." || ch == "_" || ch == "-" {
          separator.append(ch)
        } else {
          return false
        }
      }
      return true
    }
  }
}
