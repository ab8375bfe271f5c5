import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What one program run gave.
public struct ProgramResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

/// A program run to its end did not end in time (it was killed).
public struct ProgramTimeout: Error, CustomStringConvertible {
  public var description: String
}

/// The one way tests run a built program (xcsh) as a child: stdout and stderr are read on
/// threads of their own while it runs (read one after the other, a child that fills the second
/// pipe past its 64 KiB would never end), stdin is written on another, and a run that outlives
/// `timeout` is killed and reported instead of hanging the test.
public enum ProgramRun {
  /// Runs `binary ARGUMENTS` to its end. `stdin` nil: /dev/null; `environment` is added to
  /// this process's.
  public static func run(
    _ binary: String, _ arguments: [String], stdin: Data? = nil, cwd: String? = nil,
    environment: [String: String] = [:], timeout: Duration = .seconds(300)
  ) throws -> ProgramResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe()
    let err = Pipe()
    let input = stdin.map { _ in Pipe() }
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input ?? FileHandle.nullDevice
    let ended = DispatchSemaphore(value: 0)
    p.terminationHandler = { _ in ended.signal() }
    try p.run()
    let group = DispatchGroup()
    let collected = Collected()
    for (pipe, isOut) in [(out, true), (err, false)] {
      group.enter()
      Thread.detachNewThread {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        collected.set(data, stdout: isOut)
        group.leave()
      }
    }
    if let input, let stdin {
      Thread.detachNewThread {
        // A child that exits without reading gets EPIPE here, which is its business.
        try? input.fileHandleForWriting.write(contentsOf: stdin)
        try? input.fileHandleForWriting.close()
      }
    }
    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    if ended.wait(timeout: .now() + seconds) == .timedOut {
      kill(p.processIdentifier, SIGKILL)
      ended.wait()
      group.wait()
      throw ProgramTimeout(
        description: "\(binary) \(arguments) did not end within \(seconds) s; stderr so far: \(String(decoding: collected.stderr, as: UTF8.self))")
    }
    group.wait()
    return ProgramResult(
      status: p.terminationStatus, stdout: String(decoding: collected.stdout, as: UTF8.self),
      stderr: String(decoding: collected.stderr, as: UTF8.self))
  }

  /// The two streams as their readers finish.
  private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    func set(_ data: Data, stdout: Bool) {
      lock.withLock { if stdout { out = data } else { err = data } }
    }
    var stdout: Data { lock.withLock { out } }
    var stderr: Data { lock.withLock { err } }
  }
}
