import Foundation
import Testing

@testable import XCRemote

/// The ssh runtime directory is made 0700 in one step, so connections opened at once (`host
/// check` of several hosts) never see it with another mode and refuse it.
struct RuntimeDirectoryTests {
  @Test func concurrentConnectsAllAcceptTheNewDirectory() throws {
    let base = NSTemporaryDirectory() + "xcsh-rt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: base) }
    for round in 0..<300 {
      let dir = "\(base)/\(round)/ssh"
      let failures = Failures()
      DispatchQueue.concurrentPerform(iterations: 16) { _ in
        do {
          try SSHTransport.makeRuntimeDirectory(dir)
        } catch {
          failures.add("\(error)")
        }
      }
      #expect(failures.all.isEmpty, "\(failures.all)")
      var st = stat()
      #expect(stat(dir, &st) == 0 && st.st_mode & 0o777 == 0o700)
    }
  }
}

final class Failures: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [String] = []
  func add(_ s: String) {
    lock.lock()
    list.append(s)
    lock.unlock()
  }
  var all: [String] {
    lock.lock()
    defer { lock.unlock() }
    return list
  }
}
