import Foundation
import Glibc

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A client of one repository on one registry, speaking the OCI distribution API v2:
/// manifests (GET/PUT), blobs (GET streamed, HEAD, upload by POST + PUT), with HTTP Basic or
/// the Bearer token flow (challenge → token service with the login's credentials → retry).
///
/// Not for concurrent use: a pull or push uses its client from one thread at a time (a pull
/// hands it to its download thread while it only unpacks). `close()` it.
final class RegistryClient: @unchecked Sendable {
  let endpoint: RegistryEndpoint
  /// The repository path on the registry (`library/busybox` on Docker Hub).
  let repository: String
  /// `pull`, or `pull,push`: the token scope asked for.
  let actions: String
  private let http: HTTPTransport
  /// The `Authorization` value to send, once learnt from a challenge.
  private var authorization: String?

  /// Media types asked for when fetching a manifest: images and indexes, OCI and Docker.
  static let manifestAccept = [
    OCI.manifestMediaType, OCI.indexMediaType, OCI.dockerManifest, OCI.dockerManifestList,
  ].joined(separator: ", ")

  init(endpoint: RegistryEndpoint, imageName: String, push: Bool, idleTimeout: TimeInterval = 60) {
    self.endpoint = endpoint
    repository = endpoint.repository(for: imageName)
    actions = push ? "pull,push" : "pull"
    http = HTTPTransport(idleTimeout: idleTimeout)
  }

  func close() { http.close() }

  var scope: String { "repository:\(repository):\(actions)" }

  // MARK: - Authentication

  /// `GET /v2/`: checks the registry speaks the API and learns how to authenticate, so the
  /// later (streamed) requests go out with credentials from the start.
  func authenticate() throws {
    let response = try perform(request(endpoint.pingURL))
    guard response.isSuccess else {
      throw failure("GET /v2/", response, what: "the registry's API root")
    }
  }

  /// Sends a request made by `make` with the current credentials; on a 401 answers the
  /// challenge once and sends it again.
  private func perform(_ request: URLRequest, _ send: ((URLRequest) throws -> HTTPResponse)? = nil)
    throws -> HTTPResponse
  {
    let send = send ?? { try self.http.send($0) }
    var attempt = request
    if let authorization { attempt.setValue(authorization, forHTTPHeaderField: "Authorization") }
    let first = try transport { try send(attempt) }
    guard first.status == 401 else { return first }
    try answerChallenge(first)
    attempt.setValue(authorization, forHTTPHeaderField: "Authorization")
    let second = try transport { try send(attempt) }
    if second.status == 401 { throw refused(second) }
    return second
  }

  /// Learns credentials from a 401's `WWW-Authenticate`.
  private func answerChallenge(_ response: HTTPResponse) throws {
    let challenges = AuthChallenge.parse(response.header("WWW-Authenticate") ?? "")
    if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
      authorization = "Bearer " + (try token(bearer))
    } else if challenges.contains(where: { $0.scheme == "basic" }) {
      guard let credentials = endpoint.credentials else { throw needsLogin() }
      if authorization == credentials.basicAuthorization { throw refused(response) }
      authorization = credentials.basicAuthorization
    } else {
      throw EngineError(
        .registryAuth,
        "the registry \(endpoint.name) wants authentication with an unsupported challenge \"\(response.header("WWW-Authenticate") ?? "")\"",
        errno: .permissionDenied)
    }
  }

  /// The Bearer flow: `GET <realm>?service=…&scope=…` with Basic credentials when logged in;
  /// the answer's `token` (or `access_token`) is then sent as `Bearer`.
  private func token(_ challenge: AuthChallenge) throws -> String {
    guard let realm = challenge.realm, var components = URLComponents(string: realm),
      components.scheme == "http" || components.scheme == "https"
    else {
      throw EngineError(
        .registryAuth, "the registry \(endpoint.name) sent a Bearer challenge without a usable realm",
        errno: .permissionDenied)
    }
    var query = components.queryItems ?? []
    if let service = challenge.parameters["service"] {
      query.append(URLQueryItem(name: "service", value: service))
    }
    query.append(URLQueryItem(name: "scope", value: scope))
    if let other = challenge.parameters["scope"], other != scope {
      query.append(URLQueryItem(name: "scope", value: other))
    }
    components.queryItems = query
    var request = URLRequest(url: components.url!)
    if let credentials = endpoint.credentials {
      request.setValue(credentials.basicAuthorization, forHTTPHeaderField: "Authorization")
    }
    let response = try transport { try http.send(request, bodyLimit: 1 << 20) }
    if response.status == 401 || response.status == 403 {
      guard let credentials = endpoint.credentials else { throw needsLogin() }
      throw EngineError(
        .registryAuth,
        "the token service of \(endpoint.name) (\(realm)) refused the credentials of \(credentials.username) (HTTP \(response.status))",
        help: "log in again with the right password", errno: .permissionDenied)
    }
    guard response.isSuccess else {
      throw failure("GET \(realm)", response, what: "a token")
    }
    struct TokenAnswer: Decodable {
      var token: String?
      var access_token: String?
    }
    guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(response.body)),
      let token = answer.token ?? answer.access_token, !token.isEmpty
    else {
      throw EngineError(
        .registryAuth, "the token service of \(endpoint.name) (\(realm)) answered without a token",
        errno: .permissionDenied)
    }
    return token
  }

  private func needsLogin() -> EngineError {
    EngineError(
      .registryAuth, "the registry \(endpoint.name) needs credentials",
      help: "log in first (login -u USER SERVER)", errno: .permissionDenied)
  }

  private func refused(_ response: HTTPResponse) -> EngineError {
    guard let credentials = endpoint.credentials else { return needsLogin() }
    var message = "the registry \(endpoint.name) refused the credentials of \(credentials.username)"
    if let why = RegistryErrorBody.summary(response.body) { message += " (\(why))" }
    return EngineError(.registryAuth, message, help: "log in again with the right password", errno: .permissionDenied)
  }

  // MARK: - Manifests

  /// A manifest as served: its bytes (whose digest is its name), media type and digest.
  struct FetchedManifest {
    var bytes: [UInt8]
    var mediaType: String
    var digest: String
  }

  /// `GET /v2/<name>/manifests/<tag or digest>`. A digest reference is verified against
  /// the bytes received.
  func manifest(_ reference: String) throws -> FetchedManifest {
    var request = request(endpoint.manifestURL(repository: repository, reference: reference))
    request.setValue(Self.manifestAccept, forHTTPHeaderField: "Accept")
    let response = try perform(request)
    guard response.isSuccess else {
      if response.status == 404 || RegistryErrorBody.codes(response.body).contains("MANIFEST_UNKNOWN") {
        var message = "manifest unknown: \(endpoint.name) has no \(repository):\(reference)"
        if reference.hasPrefix("sha256:") { message = "manifest unknown: \(endpoint.name) has no \(repository)@\(reference)" }
        if let why = RegistryErrorBody.summary(response.body) { message += " (\(why))" }
        throw EngineError(
          .registryNotFound, message, help: "check the repository name and tag", errno: .noSuchFileOrDirectory)
      }
      throw failure("GET manifest \(reference)", response, what: "the manifest")
    }
    let digest = Digest.of(response.body)
    if reference.hasPrefix("sha256:"), digest != reference {
      throw EngineError(
        .digestMismatch, "the manifest \(reference) from \(endpoint.name) has digest \(digest)",
        help: "the registry served wrong content; refusing it", errno: .invalidArgument)
    }
    let type = response.header("Content-Type")?.split(separator: ";").first
      .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    return FetchedManifest(bytes: response.body, mediaType: type, digest: digest)
  }

  /// `PUT /v2/<name>/manifests/<reference>` with the exact bytes; returns the digest the
  /// registry reports (Docker-Content-Digest), if any.
  func putManifest(_ bytes: [UInt8], mediaType: String, reference: String) throws -> String? {
    var request = request(endpoint.manifestURL(repository: repository, reference: reference), method: "PUT")
    request.setValue(mediaType, forHTTPHeaderField: "Content-Type")
    request.httpBody = Data(bytes)
    let response = try perform(request)
    guard response.isSuccess else { throw failure("PUT manifest \(reference)", response, what: "the manifest") }
    return response.header("Docker-Content-Digest")
  }

  // MARK: - Blobs

  /// `GET` a small blob (a config) into memory, verified against its digest and size.
  func smallBlob(_ descriptor: OCI.Descriptor, limit: Int = 16 << 20) throws -> [UInt8] {
    guard descriptor.size <= Int64(limit) else {
      throw EngineError(
        .registryFailed, "the blob \(descriptor.digest) is \(descriptor.size) bytes, more than the \(limit) allowed",
        errno: .invalidArgument)
    }
    let response = try perform(request(endpoint.blobURL(repository: repository, digest: descriptor.digest))) {
      try self.http.send($0, bodyLimit: limit)
    }
    guard response.isSuccess else { throw blobFailure(descriptor.digest, response) }
    let digest = Digest.of(response.body)
    guard digest == descriptor.digest, Int64(response.body.count) == descriptor.size else {
      throw EngineError(
        .digestMismatch,
        "the blob \(descriptor.digest) from \(endpoint.name) has digest \(digest) and \(response.body.count) bytes (expected \(descriptor.size))",
        help: "the registry served wrong content; refusing it", errno: .invalidArgument)
    }
    return response.body
  }

  /// `GET` a blob, its bytes passed to `sink` as they arrive; the caller verifies them.
  func downloadBlob(_ digest: String, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
    let response = try perform(request(endpoint.blobURL(repository: repository, digest: digest))) {
      try self.http.stream($0, sink: sink)
    }
    guard response.isSuccess else { throw blobFailure(digest, response) }
  }

  /// `HEAD` a blob: whether the registry has it already.
  func hasBlob(_ digest: String) throws -> Bool {
    let response = try perform(request(endpoint.blobURL(repository: repository, digest: digest), method: "HEAD"))
    if response.status == 404 { return false }
    guard response.isSuccess else { throw blobFailure(digest, response) }
    return true
  }

  /// Uploads the file at `path` as blob `digest`: `POST` starts an upload session, one `PUT`
  /// to its location with `?digest=` sends the whole content (a monolithic upload).
  func uploadBlob(_ digest: String, fromFile path: String, size: Int64, sent: ((Int64) -> Void)? = nil) throws {
    var start = request(endpoint.uploadsURL(repository: repository), method: "POST")
    start.setValue("0", forHTTPHeaderField: "Content-Length")
    let session = try perform(start)
    guard session.status == 202 || session.status == 201, let location = session.header("Location") else {
      throw failure("POST blob upload", session, what: "an upload session")
    }
    guard let base = URL(string: location, relativeTo: session.url ?? endpoint.baseURL)?.absoluteURL,
      var components = URLComponents(url: base, resolvingAgainstBaseURL: true)
    else {
      throw EngineError(.registryFailed, "the registry \(endpoint.name) gave an unusable upload location \"\(location)\"", errno: .ioError)
    }
    components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "digest", value: digest)]
    var put = request(components.url!, method: "PUT")
    put.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
    put.setValue(String(size), forHTTPHeaderField: "Content-Length")
    let response = try perform(put) { try self.http.upload($0, fromFile: path, sent: sent) }
    guard response.isSuccess else { throw failure("PUT blob \(digest)", response, what: "the blob") }
  }

  // MARK: - Helpers

  private func request(_ url: URL, method: String = "GET") -> URLRequest {
    var r = URLRequest(url: url)
    r.httpMethod = method
    return r
  }

  /// Runs a transport call, turning "no HTTP answer" into `registry.unreachable`.
  private func transport(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
    do {
      return try body()
    } catch let e as HTTPFailure {
      throw EngineError(
        .registryUnreachable, "cannot reach the registry \(endpoint.name): \(e)",
        help: "check that it runs and the address is right (http for an insecure registry: login --insecure)",
        errno: .connectionRefused)
    }
  }

  private func blobFailure(_ digest: String, _ response: HTTPResponse) -> EngineError {
    if response.status == 404 {
      var message = "blob unknown: \(endpoint.name) has no blob \(digest) in \(repository)"
      if let why = RegistryErrorBody.summary(response.body) { message += " (\(why))" }
      return EngineError(.registryNotFound, message, errno: .noSuchFileOrDirectory)
    }
    return failure("GET blob \(digest)", response, what: "the blob")
  }

  private func failure(_ action: String, _ response: HTTPResponse, what: String) -> EngineError {
    var message = "the registry \(endpoint.name) failed \(action): HTTP \(response.status)"
    if let why = RegistryErrorBody.summary(response.body) { message += ": \(why)" }
    if response.status == 401 || response.status == 403 {
      return EngineError(.registryAuth, message, help: "log in with an account allowed to do this", errno: .permissionDenied)
    }
    return EngineError(.registryFailed, message, errno: response.status == 404 ? .noSuchFileOrDirectory : .ioError)
  }
}
