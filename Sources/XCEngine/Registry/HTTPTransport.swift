import Foundation
import Glibc

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// What one HTTP exchange came back with.
struct HTTPResponse: Sendable {
  var status: Int
  /// Header fields by lowercased name.
  var headers: [String: String]
  /// The body when it was buffered: the whole body of `send`, or an error status's body
  /// from `stream` and `upload` (whose successful bodies go to the sink or nowhere).
  var body: [UInt8]
  /// The URL that answered, after redirects.
  var url: URL?

  func header(_ name: String) -> String? { headers[name.lowercased()] }
  var isSuccess: Bool { (200..<300).contains(status) }
}

/// A transport failure: the request did not get an HTTP answer (refused, DNS, TLS, timeout),
/// or the caller's sink stopped it.
struct HTTPFailure: Error, CustomStringConvertible {
  var url: URL
  var underlying: any Error
  var description: String {
    if let e = underlying as? URLError {
      return "\(url.absoluteString): \(Self.describe(e))"
    }
    return "\(url.absoluteString): \(underlying)"
  }

  static func describe(_ e: URLError) -> String {
    switch e.code {
    case .cannotConnectToHost: return "connection refused"
    case .cannotFindHost: return "host not found"
    case .timedOut: return "timed out"
    case .networkConnectionLost: return "connection lost"
    case .notConnectedToInternet: return "network unreachable"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
      .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
      return "TLS failed (\(e.localizedDescription))"
    default: return e.localizedDescription
    }
  }
}

/// Blocking HTTP over Foundation's `URLSession` (libcurl on Linux): one session per
/// transport, its delegate callbacks on a private serial queue, each call waiting for its
/// own task. Bodies can be streamed to a sink as they arrive and uploaded from files, so no
/// blob is ever held in memory.
///
/// Call `close()` when done: the session keeps its delegate (this object) until then.
final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  /// One request in flight; its fields are touched by the delegate queue and read by the
  /// caller only after `done` is signalled.
  private final class Exchange: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var response: HTTPURLResponse?
    var body: [UInt8] = []
    /// Successful bodies go here when set (else they are buffered).
    var sink: ((UnsafeRawBufferPointer) throws -> Void)?
    var sinkError: (any Error)?
    var bodyLimit: Int
    var sent: ((Int64) -> Void)?
    var error: (any Error)?
    /// The 401 that raised an authentication challenge (see `didReceive challenge`).
    var challenged: HTTPURLResponse?
    /// The host the request was first sent to: credentials never follow a redirect elsewhere.
    let origin: String?

    init(bodyLimit: Int, origin: String?) {
      self.bodyLimit = bodyLimit
      self.origin = origin
    }
  }

  private let lock = NSLock()
  private var exchanges: [Int: Exchange] = [:]
  private var session: URLSession?

  /// - Parameter idleTimeout: how long a request may wait for the next bytes.
  init(idleTimeout: TimeInterval = 60) {
    super.init()
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = idleTimeout
    configuration.timeoutIntervalForResource = 7 * 24 * 3600
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 1
    queue.name = "xcd.registry.http"
    session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
  }

  /// Cancels what is in flight and releases the session.
  func close() {
    lock.lock()
    let s = session
    session = nil
    lock.unlock()
    s?.invalidateAndCancel()
  }

  /// Sends `request` and buffers the whole answer (at most `bodyLimit` bytes).
  func send(_ request: URLRequest, bodyLimit: Int = 16 << 20) throws -> HTTPResponse {
    try run(request, bodyLimit: bodyLimit) { $0.dataTask(with: request) }
  }

  /// Sends `request`; a 2xx body is passed to `sink` chunk by chunk as it arrives (other
  /// statuses are buffered into the response). A throwing sink cancels the transfer and its
  /// error is rethrown.
  func stream(_ request: URLRequest, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws
    -> HTTPResponse
  {
    try run(request, bodyLimit: 1 << 20, sink: sink) { $0.dataTask(with: request) }
  }

  /// Sends `request` with the file at `path` as its body; `sent` gets the running total.
  func upload(_ request: URLRequest, fromFile path: String, sent: ((Int64) -> Void)? = nil) throws
    -> HTTPResponse
  {
    try run(request, bodyLimit: 1 << 20, sent: sent) {
      $0.uploadTask(with: request, fromFile: URL(fileURLWithPath: path))
    }
  }

  private func run(
    _ request: URLRequest, bodyLimit: Int,
    sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil, sent: ((Int64) -> Void)? = nil,
    makeTask: (URLSession) -> URLSessionTask
  ) throws -> HTTPResponse {
    let url = request.url!
    let exchange = Exchange(bodyLimit: bodyLimit, origin: url.host)
    exchange.sink = sink
    exchange.sent = sent
    lock.lock()
    guard let session else {
      lock.unlock()
      throw HTTPFailure(url: url, underlying: URLError(.cancelled))
    }
    let task = makeTask(session)
    exchanges[task.taskIdentifier] = exchange
    lock.unlock()
    task.resume()
    exchange.done.wait()
    lock.lock()
    exchanges[task.taskIdentifier] = nil
    lock.unlock()

    if let e = exchange.sinkError { throw e }
    if let e = exchange.error { throw HTTPFailure(url: url, underlying: e) }
    guard let response = exchange.response else {
      throw HTTPFailure(url: url, underlying: URLError(.badServerResponse))
    }
    var headers: [String: String] = [:]
    for (key, value) in response.allHeaderFields {
      if let k = key as? String, let v = value as? String { headers[k.lowercased()] = v }
    }
    return HTTPResponse(
      status: response.statusCode, headers: headers, body: exchange.body, url: response.url)
  }

  private func exchange(_ task: URLSessionTask) -> Exchange? {
    lock.lock()
    defer { lock.unlock() }
    return exchanges[task.taskIdentifier]
  }

  // MARK: - URLSession delegate (on the session's serial queue)

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    exchange(dataTask)?.response = response as? HTTPURLResponse
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    guard let x = exchange(dataTask), x.sinkError == nil else { return }
    let success = x.response.map { (200..<300).contains($0.statusCode) } ?? false
    if success, let sink = x.sink {
      do {
        try data.withUnsafeBytes { try sink($0) }
      } catch {
        x.sinkError = error
        dataTask.cancel()
      }
    } else if x.body.count + data.count <= x.bodyLimit {
      x.body.append(contentsOf: data)
    } else {
      x.sinkError = HTTPFailure(
        url: dataTask.originalRequest?.url ?? URL(string: "about:blank")!,
        underlying: BodyTooLarge(limit: x.bodyLimit))
      dataTask.cancel()
    }
  }

  func urlSession(
    _ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64,
    totalBytesSent: Int64, totalBytesExpectedToSend: Int64
  ) {
    exchange(task)?.sent?(totalBytesSent)
  }

  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
  ) {
    // Blob downloads are often redirected to storage elsewhere: never send it our credentials.
    var next = request
    if let x = exchange(task), request.url?.host != x.origin {
      next.setValue(nil, forHTTPHeaderField: "Authorization")
    }
    completionHandler(next)
  }

  /// A 401 with a Basic (or Digest) challenge: Foundation on Linux would wait for
  /// credentials forever (or cancel), never delivering the response. The registry client
  /// answers challenges itself, so the 401 is kept and the task stopped here.
  func urlSession(
    _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
  ) {
    if let x = exchange(task), let url = task.originalRequest?.url {
      var headers: [String: String] = [:]
      if let failure = (challenge.failureResponse ?? task.response) as? HTTPURLResponse {
        for (key, value) in failure.allHeaderFields {
          if let k = key as? String, let v = value as? String { headers[k] = v }
        }
      }
      if !headers.keys.contains(where: { $0.lowercased() == "www-authenticate" }) {
        let space = challenge.protectionSpace
        let scheme = space.authenticationMethod == NSURLAuthenticationMethodHTTPDigest ? "Digest" : "Basic"
        headers["WWW-Authenticate"] = "\(scheme) realm=\"\(space.realm ?? "")\""
      }
      x.challenged = HTTPURLResponse(url: url, statusCode: 401, httpVersion: "HTTP/1.1", headerFields: headers)
    }
    completionHandler(.cancelAuthenticationChallenge, nil)
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
    guard let x = exchange(task) else { return }
    if let challenged = x.challenged {
      x.response = challenged
      x.done.signal()
      return
    }
    if let error, x.sinkError == nil { x.error = error }
    if x.response == nil { x.response = task.response as? HTTPURLResponse }
    x.done.signal()
  }

  struct BodyTooLarge: Error, CustomStringConvertible {
    var limit: Int
    var description: String { "the answer is larger than \(limit) bytes" }
  }
}
