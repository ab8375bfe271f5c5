import Foundation
import Glibc
import Synchronization

/// The daemon's registries and their credentials, kept in xc's registries JSON file
/// (`registries` in xc.conf), written mode 0600:
///
///     {"default": "index.docker.io",
///      "registries": {"index.docker.io": {"base_url": "https://index.docker.io", "basic_auth": null},
///                     "127.0.0.1:5000": {"base_url": "http://127.0.0.1:5000",
///                                        "basic_auth": {"username": "u", "password": "p"}}}}
///
/// References name a registry by host (`127.0.0.1:5000/app:1`); a host with an entry uses it
/// (its scheme says http or https, its credentials are sent), any other host is spoken to
/// over https, or http when it is a loopback address or the caller says `insecure`. A
/// reference without a host goes to the `default` entry.
public final class RegistryTable: Sendable {
  /// The name and URL of xc's default registry (Docker Hub).
  public static let defaultName = "index.docker.io"
  public static let defaultURL = "https://index.docker.io"

  struct Entry: Codable, Sendable, Equatable {
    var base_url: String
    var basic_auth: RegistryCredentials?
  }

  struct File: Codable, Sendable, Equatable {
    var `default`: String
    var registries: [String: Entry]

    static let initial = File(
      default: RegistryTable.defaultName,
      registries: [RegistryTable.defaultName: Entry(base_url: RegistryTable.defaultURL, basic_auth: nil)])
  }

  public let path: String
  /// The file's content, or why it could not be read (reported by every later use).
  private let file: Mutex<Result<File, EngineError>>

  /// Reads `path` if it exists; a file that cannot be read or parsed makes every lookup
  /// fail with the reason (the daemon keeps serving everything else).
  public init(path: String) {
    self.path = path
    file = Mutex(Self.load(path))
  }

  private static func load(_ path: String) -> Result<File, EngineError> {
    guard FileSystem.exists(path) else { return .success(.initial) }
    do {
      let bytes = try FileSystem.readBytes(path)
      var parsed = try JSONDecoder().decode(File.self, from: Data(bytes))
      if parsed.registries[parsed.default] == nil && parsed.default == defaultName {
        parsed.registries[defaultName] = Entry(base_url: defaultURL, basic_auth: nil)
      }
      return .success(parsed)
    } catch let e as EngineError {
      return .failure(e)
    } catch {
      return .failure(
        EngineError(
          .state, "the registries file \(path) is not valid: \(error)",
          help: "fix or remove it (it holds xc's {\"default\", \"registries\"} JSON)", errno: .invalidArgument))
    }
  }

  /// Stores credentials for `server` (`host[:port]`) with base URL `http[s]://server`, as
  /// xc's `login` does; nothing is verified until the registry is used.
  public func login(server: String, credentials: RegistryCredentials, insecure: Bool) throws {
    guard Self.isValidServer(server) else {
      throw EngineError(
        .badReference, "invalid registry server \"\(server)\"",
        help: "give host[:port], e.g. registry.example:5000", errno: .invalidArgument)
    }
    try file.withLock { current in
      var updated = try current.get()
      let scheme = insecure ? "http" : "https"
      updated.registries[server] = Entry(base_url: "\(scheme)://\(server)", basic_auth: credentials)
      try save(updated)
      current = .success(updated)
    }
  }

  /// The registry a reference's host names (nil: the default registry).
  public func endpoint(host: String?, insecure: Bool = false) throws -> RegistryEndpoint {
    let current = try file.withLock { try $0.get() }
    let name = host ?? current.default
    if let entry = current.registries[name] {
      guard let url = URL(string: entry.base_url), url.scheme == "http" || url.scheme == "https",
        url.host != nil
      else {
        throw EngineError(
          .state, "the registry \(name) has an invalid base_url \"\(entry.base_url)\" in \(path)",
          help: "use http://HOST[:PORT] or https://HOST[:PORT]", errno: .invalidArgument)
      }
      return RegistryEndpoint(name: name, baseURL: url, credentials: entry.basic_auth)
    }
    if host == nil {
      return RegistryEndpoint(name: name, baseURL: URL(string: Self.defaultURL)!)
    }
    let scheme = insecure || RegistryEndpoint.isLoopback(host: name) ? "http" : "https"
    guard Self.isValidServer(name), let url = URL(string: "\(scheme)://\(name)") else {
      throw EngineError(.badReference, "invalid registry host \"\(name)\"", errno: .invalidArgument)
    }
    return RegistryEndpoint(name: name, baseURL: url)
  }

  /// host[:port]: letters, digits, '.', '-', ':' and brackets for IPv6.
  static func isValidServer(_ server: String) -> Bool {
    !server.isEmpty && server.count <= 255
      && server.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]_".contains($0)) }
  }

  /// Writes the file atomically, readable by root only (it holds passwords).
  private func save(_ content: File) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    let bytes = Array(try encoder.encode(content))
    let dir = (path as NSString).deletingLastPathComponent
    if !dir.isEmpty { try FileSystem.makeDirectories(dir, mode: 0o700) }
    try FileSystem.writeAtomically(path, bytes, mode: 0o600)
    chmod(path, 0o600)
  }
}
