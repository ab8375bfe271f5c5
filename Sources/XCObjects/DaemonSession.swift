import Dispatch
import SystemPackage
import XCIPC
import XCShell

/// The shell's connection to xcd: opened on first use, and its failures turned into shell errors
/// that name the method and say what to do.
public final class DaemonSession: @unchecked Sendable {
  public let socketPath: String
  private var client: XCClient?

  public init(socketPath: String) { self.socketPath = socketPath }

  /// Calls the daemon; IPC failures become `daemon.*` errors located at the command.
  func call<R: XCRequest>(_ request: R, at span: Span) throws -> R.Response {
    let c = try connect(at: span)
    do {
      return try c.call(request)
    } catch {
      if error.code == .connectionClosed { client = nil }
      var e = ShellError(ShellError.Code(rawValue: "daemon.\(error.code.rawValue)"), "\(error)", at: span)
      if error.code == .noDaemon || error.code == .permissionDenied {
        e.help = "start xcd or point xcsh at it with --socket PATH or $XC_SOCKET"
      }
      throw e
    }
  }

  private func connect(at span: Span) throws -> XCClient {
    if let client, client.isOpen { return client }
    do {
      let c = try XCClient(path: socketPath, timeout: .seconds(120))
      client = c
      return c
    } catch {
      throw ShellError(
        "daemon.unavailable", "cannot reach the xc daemon at \(socketPath): \(error)", at: span,
        help: "start xcd or point xcsh at it with --socket PATH or $XC_SOCKET")
    }
  }

  private var nameCache: [ObjectType: (at: UInt64, names: [String])] = [:]

  /// Names of live objects for completion: cached for two seconds, and never an error (a Tab
  /// must not stall or break the line when the daemon is slow or gone).
  public func names(of type: ObjectType) -> [String] {
    let now = DispatchTime.now().uptimeNanoseconds
    if let c = nameCache[type], now - c.at < 2_000_000_000 { return c.names }
    var names: [String] = []
    if let c = try? connect(at: .unknown) {
      switch type {
      case .container:
        if let list = try? c.call(ContainerNamesRequest(), timeout: .seconds(1)) {
          names = list.flatMap { [$0.name, $0.id] }
        }
      case .image:
        if let list = try? c.call(ListAllImagesRequest(), timeout: .seconds(1)) {
          names = list.manifests.map(\.imageReference)
        }
      default: break
      }
    }
    nameCache[type] = (now, names)
    return names
  }

  /// A daemon record as a shell value: the fields exactly as the daemon sends them.
  static func value<T: Encodable>(_ record: T, as type: ObjectType?) throws -> Value {
    var fds: [FileDescriptor] = []
    let bytes = try WireEncoder().encode(record, descriptors: &fds)
    let v = try Value.fromJSON(String(decoding: bytes, as: UTF8.self))
    guard let type, let fields = v.recordValue else { return v }
    return Value(.object(ObjectValue(type: type, fields: fields)))
  }
}

/// `list_containers` read for completion: the same request, but only each record's name and id
/// are decoded (the full manifests of a thousand containers cost more than a Tab may take).
struct ContainerNamesRequest: XCNullPayloadRequest {
  static let method = ListContainersRequest.method
  struct Name: Codable, Sendable {
    var name: String
    var id: String
  }
  typealias Response = [Name]
}
