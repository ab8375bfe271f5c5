// Benchmark driver for scripts/bench.d/ipc. Serves `kill_container` (a small call: a 50-byte
// request, a 22-byte answer) on a temporary socket and measures, over real connections:
//   latency: per-call round trip on one connection (p50, p99)
//   throughput: calls per second with 1, 8 and 64 connections, one client thread each
// Output is `key value` lines; the script turns them into Markdown.
//
// Usage: XCIPCBench [latency-calls] [seconds-per-throughput-run]
//        XCIPCBench frames   (framing-only round trips over a socketpair)
//        XCIPCBench cpu      (per-step CPU cost of encoding and decoding, no sockets)

import Foundation
import Synchronization
import XCIPC
import XCSystem

let args = CommandLine.arguments

// `XCIPCBench cpu`: per-step CPU cost of a small call without sockets (for tuning).
if args.count > 1 && args[1] == "cpu" {
  let n = 200_000
  let clock = ContinuousClock()
  func measure(_ name: String, _ body: () throws -> Void) rethrows {
    let t0 = clock.now
    for _ in 0..<n { try body() }
    let d = clock.now - t0
    let ns =
      (Double(d.components.seconds) * 1e18 + Double(d.components.attoseconds)) / 1e9 / Double(n)
    print("cpu_\(name)_ns", Int(ns))
  }
  let req = KillContainerRequest(name: "web")
  let (body, _) = try Envelope.encodeRequest(req)
  let answer = try Envelope.encodeSuccess(EmptyResponse())
  try measure("encode_request") { _ = try Envelope.encodeRequest(req) }
  try measure("decode_request") {
    _ = try Envelope.decodeRequest(KillContainerRequest.self, from: body)
  }
  measure("method_of") { _ = Envelope.method(of: body) }
  try measure("encode_response") { _ = try Envelope.encodeSuccess(EmptyResponse()) }
  try measure("decode_response") {
    _ = try Envelope.decodeResponse(EmptyResponse.self, from: answer)
  }
  exit(0)
}
let latencyCalls = args.count > 1 ? Int(args[1]) ?? 20000 : 20000
let seconds = args.count > 2 ? Double(args[2]) ?? 1.0 : 1.0
let request = KillContainerRequest(name: "web")

// `XCIPCBench frames`: round trips through FrameChannel alone (no JSON, no dispatch), to see
// what the framing layer costs by itself.
if args.count > 1 && args[1] == "frames" {
  let (a, b) = try Socket.pair()
  let t = Thread {
    let ch = FrameChannel(socket: b)
    while let f = try? ch.receive() { try? ch.send(body: f.body) }
    ch.close()
  }
  t.start()
  let ch = FrameChannel(socket: a)
  let (body, _) = try Envelope.encodeRequest(request)
  for _ in 0..<2000 {
    try ch.send(body: body)
    _ = try ch.receive()
  }
  var samples: [Double] = []
  let clock = ContinuousClock()
  for _ in 0..<latencyCalls {
    let t0 = clock.now
    try ch.send(body: body)
    _ = try ch.receive()
    let d = clock.now - t0
    samples.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
  }
  samples.sort()
  print("frames_p50_us", String(format: "%.2f", samples[samples.count / 2]))
  ch.close()
  exit(0)
}

let dir = FileManager.default.temporaryDirectory
  .appendingPathComponent("xc-ipc-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }
let path = dir + "/xc.sock"

var table = XCMethodTable()
table.register(KillContainerRequest.self) { _, _ in EmptyResponse() }
let server = try XCServer(path: path, table: table)
server.start()
defer { server.stop() }



// Latency: one connection, warm up, then time each call.
do {
  let client = try XCClient(path: path)
  for _ in 0..<2000 { _ = try client.call(request) }
  var samples: [Double] = []
  samples.reserveCapacity(latencyCalls)
  let clock = ContinuousClock()
  for _ in 0..<latencyCalls {
    let t0 = clock.now
    _ = try client.call(request)
    let d = clock.now - t0
    samples.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
  }
  samples.sort()
  print("latency_p50_us", String(format: "%.2f", samples[samples.count / 2]))
  print("latency_p99_us", String(format: "%.2f", samples[samples.count * 99 / 100]))
  client.close()
}

// Throughput: N connections, each driven by its own thread for `seconds`.
for conns in [1, 8, 64] {
  let clients = try (0..<conns).map { _ in try XCClient(path: path) }
  let total = Atomic<Int>(0)
  let stop = Atomic<Bool>(false)
  let ready = Atomic<Int>(0)
  let done = DispatchGroup()
  for c in clients {
    done.enter()
    let t = Thread {
      var n = 0
      ready.add(1, ordering: .relaxed)
      while !stop.load(ordering: .relaxed) {
        do { _ = try c.call(request) } catch { break }
        n += 1
      }
      total.add(n, ordering: .relaxed)
      done.leave()
    }
    t.start()
  }
  while ready.load(ordering: .relaxed) < conns { usleep(100) }
  let clock = ContinuousClock()
  let t0 = clock.now
  usleep(UInt32(seconds * 1e6))
  stop.store(true, ordering: .relaxed)
  done.wait()
  let elapsed = clock.now - t0
  let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  print("throughput_\(conns)", Int(Double(total.load(ordering: .relaxed)) / secs))
  for c in clients { c.close() }
}
