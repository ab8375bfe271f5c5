import Foundation

/// Basic-auth credentials for one registry, as `login` stores them. Printing one never shows
/// the password.
public struct RegistryCredentials: Codable, Sendable, Equatable, CustomStringConvertible,
  CustomDebugStringConvertible
{
  public var username: String
  public var password: String

  public init(username: String, password: String) {
    self.username = username
    self.password = password
  }

  /// The `Authorization` header value for HTTP Basic.
  var basicAuthorization: String {
    "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
  }

  public var description: String { "user \(username) (password hidden)" }
  public var debugDescription: String { description }
}

/// Where one registry's distribution API lives and how to log in to it; maps image
/// references to the API's URLs.
///
///     let hub = RegistryEndpoint(name: "index.docker.io", baseURL: URL(string: "https://index.docker.io")!)
///     hub.manifestURL(repository: hub.repository(for: "busybox"), reference: "1.36")
///     // https://index.docker.io/v2/library/busybox/manifests/1.36
public struct RegistryEndpoint: Sendable, Equatable {
  /// The name references use for it (`host[:port]`), or the default registry's name.
  public var name: String
  /// `http[s]://host[:port][/prefix]`; the API is under `<baseURL>/v2/`.
  public var baseURL: URL
  public var credentials: RegistryCredentials?

  public init(name: String, baseURL: URL, credentials: RegistryCredentials? = nil) {
    self.name = name
    self.baseURL = baseURL
    self.credentials = credentials
  }

  /// Docker Hub keeps official images under `library/`.
  public var isDockerHub: Bool {
    let host = baseURL.host ?? ""
    return host == "docker.io" || host.hasSuffix(".docker.io")
  }

  public var isInsecure: Bool { baseURL.scheme == "http" }

  /// The repository path on this registry for an image name (`busybox` on Docker Hub is
  /// `library/busybox`).
  public func repository(for name: String) -> String {
    isDockerHub && !name.contains("/") ? "library/" + name : name
  }

  /// `<base>/v2/`: answers 200, or 401 with the challenge to authenticate with.
  public var pingURL: URL { url("/v2/") }

  public func manifestURL(repository: String, reference: String) -> URL {
    url("/v2/\(repository)/manifests/\(reference)")
  }

  public func blobURL(repository: String, digest: String) -> URL {
    url("/v2/\(repository)/blobs/\(digest)")
  }

  /// Where a blob upload session is started (POST).
  public func uploadsURL(repository: String) -> URL {
    url("/v2/\(repository)/blobs/uploads/")
  }

  /// Repository names, tags and digests hold only URL-safe characters (the reference
  /// grammar), so they are joined as they are.
  private func url(_ path: String) -> URL {
    var base = baseURL.absoluteString
    while base.hasSuffix("/") { base.removeLast() }
    return URL(string: base + path)!
  }

  /// Loopback registries (`localhost`, `127.0.0.0/8`, `::1`) are spoken to over plain HTTP
  /// unless configured otherwise, as Docker treats them as insecure by default.
  public static func isLoopback(host: String) -> Bool {
    var h = host
    if h.hasPrefix("["), let end = h.firstIndex(of: "]") {
      h = String(h[h.index(after: h.startIndex)..<end])
    } else if let colon = h.lastIndex(of: ":"), h.filter({ $0 == ":" }).count == 1 {
      h = String(h[..<colon])
    }
    return h == "localhost" || h == "::1" || h.hasPrefix("127.")
  }
}
