import Dispatch
import Foundation
import SystemPackage
import XCIPC

/// `--trace`: passes each call on and writes one line per call to stderr:
///
///     trace: instantiate {"image_reference":"busybox:latest",…} -> ok {"id":"3f…"} (4.2 ms)
///     trace: kill_container {"name":"nope"} -> error EPERM: … (0.3 ms)
///
/// Requests and results are compact wire JSON, each cut at `limit` characters.
struct TracingCaller: XCCaller {
  let inner: any XCCaller
  let write: @Sendable (String) -> Void
  var limit = 400

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    let start = DispatchTime.now().uptimeNanoseconds
    let sent = Self.json(request, limit: limit)
    do {
      let r = try inner.call(request, timeout: timeout)
      write("trace: \(R.method) \(sent) -> ok \(Self.json(r, limit: limit)) (\(Self.elapsed(since: start)))\n")
      return r
    } catch {
      write("trace: \(R.method) \(sent) -> error \(error.message) (\(Self.elapsed(since: start)))\n")
      throw error
    }
  }

  static func elapsed(since start: UInt64) -> String {
    let ns = DispatchTime.now().uptimeNanoseconds - start
    return String(format: "%.1f ms", Double(ns) / 1e6)
  }

  /// Compact wire JSON of a value (descriptors appear as their index), cut at `limit`.
  static func json<T: Encodable>(_ v: T, limit: Int) -> String {
    var fds: [FileDescriptor] = []
    guard let bytes = try? WireEncoder().encode(v, descriptors: &fds) else { return "(unencodable)" }
    let text = String(decoding: bytes, as: UTF8.self)
    guard text.count > limit else { return text }
    return "\(text.prefix(limit))… (\(bytes.count) bytes)"
  }
}

/// Writes whole lines to stderr, one write(2) each, so lines from parallel workers never mix.
enum StandardError {
  static func write(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.withUnsafeMutableBytes { buf in
      var off = 0
      while off < buf.count {
        let n = Glibc.write(2, buf.baseAddress! + off, buf.count - off)
        if n <= 0 { if n < 0, errno == EINTR { continue }; return }
        off += n
      }
    }
  }
}
