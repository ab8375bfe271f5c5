// libFuzzer target: xc's wire protocol as the daemon and the client read it.
//
// Each input is run through the frame decoder (as a byte stream, frame after frame), the
// envelope readers, and the payload decoder of the method it names plus one more chosen by
// its first byte, as requests and as responses. Nothing may crash or trap; decoders may
// only throw. Built and run by scripts/fuzz.
import XCIPC

let methods: [any XCRequest.Type] = XCMethods.all + XCMethods.unregistered + XCMethods.extensions
let byName: [String: any XCRequest.Type] = Dictionary(
  methods.map { ($0.method, $0) }, uniquingKeysWith: { a, _ in a })
let limits = FrameLimits(maxBodyLength: 1 << 16, maxDescriptors: 64)

func decodeAs<R: XCRequest>(_ type: R.Type, _ body: [UInt8]) {
  if let request = try? Envelope.decodeRequest(R.self, from: body) {
    // What decodes must encode again (the daemon echoes parts of requests back).
    _ = try? Envelope.encodeRequest(request)
  }
  if case .success(let value)? = try? Envelope.decodeResponse(R.Response.self, from: body) {
    _ = try? Envelope.encodeSuccess(value)
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))

  // The stream: frames one after the other until the decoder wants more or refuses.
  var rest = bytes[...]
  while true {
    guard case .frame(let d)? = try? FrameDecoder.decode(rest, limits: limits) else { break }
    let body = Array(rest[(rest.startIndex + d.bodyRange.lowerBound)..<(rest.startIndex + d.bodyRange.upperBound)])
    _ = Envelope.method(of: body)
    _ = Envelope.isWellFormedRequest(body)
    rest = rest.dropFirst(d.consumed)
    if d.consumed == 0 { break }
  }

  // The whole input as a body.
  if let name = Envelope.method(of: bytes), let type = byName[name] {
    decodeAs(type, bytes)
  }
  _ = Envelope.isWellFormedRequest(bytes)
  if let first = bytes.first {
    let type: any XCRequest.Type = methods[Int(first) % methods.count]
    decodeAs(type, Array(bytes.dropFirst()))
  }
  return 0
}
