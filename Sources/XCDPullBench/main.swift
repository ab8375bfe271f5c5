// Benchmark driver for scripts/bench.d/registry: a pull from a registry through xcd against
// `skopeo copy` of the same image, alternated run by run. Output is `key value` lines (times
// in ms); the script turns them into Markdown.
//
// Usage:
//   XCDPullBench SOCKET REFERENCE SKOPEO_SOURCE SKOPEO_DEST RUNS
//     each run: (1) remove REFERENCE from xcd and purge, then time pull_image + download_stat
//     polling until Done (the image unpacked and tagged); (2) remove SKOPEO_DEST, then time
//     `skopeo copy --src-tls-verify=false SKOPEO_SOURCE oci:SKOPEO_DEST` from spawn to exit.

import Foundation
import Glibc
import XCIPC

struct BenchError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

let clock = ContinuousClock()

func milliseconds(_ d: Duration) -> Double {
  Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

/// Removes the image so the next pull fetches and unpacks everything again.
func reset(_ client: XCClient, _ reference: String) throws {
  _ = try client.call(RemoveImageRequest(imageReference: reference))
  _ = try client.call(PurgeRequest())
  guard try client.call(ListAllImagesRequest()).manifests.isEmpty else {
    throw BenchError("images left after remove_image + purge")
  }
}

/// One pull, from the request to download_stat's Done (polled every 5 ms; xc polls every 500).
func pull(_ client: XCClient, _ reference: String) throws -> Double {
  let t0 = clock.now
  _ = try client.call(PullImageRequest(imageReference: reference))
  while true {
    let status = try client.call(DownloadStatRequest(imageReference: reference))
    if status.state == .done { break }
    if status.state == .faulted || status.state == .unavailable {
      throw BenchError("pull failed: \(status.fault ?? status.state.rawValue)")
    }
    usleep(5000)
  }
  return milliseconds(clock.now - t0)
}

/// One `skopeo copy`, timed from spawn to exit. Its end is awaited with `terminationHandler`
/// (Foundation reaps on SIGCHLD): `Process.waitUntilExit` polls every 50 ms on Linux, which
/// added 0–50 ms to each sample.
func skopeo(_ source: String, _ dest: String) throws -> Double {
  try? FileManager.default.removeItem(atPath: dest)
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/skopeo")
  p.arguments = ["copy", "--quiet", "--src-tls-verify=false", source, "oci:" + dest]
  p.standardOutput = FileHandle.nullDevice
  let exited = DispatchSemaphore(value: 0)
  p.terminationHandler = { _ in exited.signal() }
  let t0 = clock.now
  try p.run()
  exited.wait()
  let ms = milliseconds(clock.now - t0)
  guard p.terminationStatus == 0 else { throw BenchError("skopeo copy exited \(p.terminationStatus)") }
  return ms
}

func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

let args = CommandLine.arguments
do {
  guard args.count == 6, let runs = Int(args[5]), runs > 0 else {
    throw BenchError("usage: XCDPullBench SOCKET REFERENCE SKOPEO_SOURCE SKOPEO_DEST RUNS")
  }
  let (socket, reference, source, dest) = (args[1], args[2], args[3], args[4])
  let client = try XCClient(path: socket, timeout: .seconds(300))
  // Warm-up: both once (page cache, the registry's own caches).
  _ = try pull(client, reference)
  _ = try skopeo(source, dest)
  var xcd: [Double] = []
  var sk: [Double] = []
  for _ in 0..<runs {
    try reset(client, reference)
    xcd.append(try pull(client, reference))
    sk.append(try skopeo(source, dest))
  }
  print("xcd_pull_median", String(format: "%.1f", median(xcd)))
  print("skopeo_copy_median", String(format: "%.1f", median(sk)))
  print("xcd_pull_min", String(format: "%.1f", xcd.min()!))
  print("skopeo_copy_min", String(format: "%.1f", sk.min()!))
  print("xcd_samples", xcd.map { String(format: "%.0f", $0) }.joined(separator: ","))
  print("skopeo_samples", sk.map { String(format: "%.0f", $0) }.joined(separator: ","))
} catch {
  FileHandle.standardError.write(Data("XCDPullBench: \(error)\n".utf8))
  exit(1)
}
