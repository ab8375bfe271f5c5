import Glibc

/// An image reference as xc spells it: `[host/]name:tag` or `[host/]name@sha256:<hex>`.
/// A tag or digest is mandatory (no implicit `latest`), as in xc.
///
///     alpine:3.18
///     localhost:5000/app:1
///     busybox@sha256:4c5f…
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
  /// The registry host, only when the first component contains a dot or a port, or is
  /// `localhost`.
  public var hostname: String?
  /// The repository name, e.g. `library/busybox`.
  public var name: String
  /// The tag, or nil when the reference names a digest.
  public var tag: String?
  /// `sha256:<hex>` when the reference names a digest.
  public var digest: String?

  public init(hostname: String? = nil, name: String, tag: String) {
    self.hostname = hostname
    self.name = name
    self.tag = tag
  }

  /// Parses `text`, throwing `image.bad_reference` with what is wrong.
  public init(parsing text: String) throws {
    func bad(_ why: String) -> EngineError {
      EngineError(
        .badReference, "invalid image reference \"\(text)\": \(why)",
        help: "write NAME:TAG or NAME@sha256:DIGEST, e.g. busybox:latest", errno: .invalidArgument)
    }
    var rest = Substring(text)
    if let at = rest.firstIndex(of: "@") {
      let digest = String(rest[rest.index(after: at)...])
      guard Digest.isValid(digest) else { throw bad("digest must be sha256:<64 hex>") }
      self.digest = digest
      rest = rest[..<at]
    }
    var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if components.count > 1 {
      let first = components[0]
      if first.contains(".") || first == "localhost" || first.hasPrefix("localhost:")
        || first.contains(":")
      {
        hostname = first
        components.removeFirst()
      }
    }
    guard var last = components.popLast(), !last.isEmpty else { throw bad("missing name") }
    if digest == nil {
      guard let colon = last.lastIndex(of: ":") else { throw bad("a tag is required") }
      let tag = String(last[last.index(after: colon)...])
      last = String(last[..<colon])
      guard !tag.isEmpty, tag.count <= 128,
        tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
      else { throw bad("tag may hold letters, digits, '_', '.', '-' (at most 128)") }
      self.tag = tag
    }
    components.append(last)
    for component in components {
      guard !component.isEmpty,
        component.allSatisfy({
          $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0))
        })
      else { throw bad("name components are lowercase letters, digits, '.', '_', '-'") }
    }
    name = components.joined(separator: "/")
  }

  /// The repository part: `[host/]name`.
  public var repository: String { hostname.map { "\($0)/\(name)" } ?? name }

  public var description: String {
    if let digest { return "\(repository)@\(digest)" }
    return "\(repository):\(tag ?? "")"
  }
}
