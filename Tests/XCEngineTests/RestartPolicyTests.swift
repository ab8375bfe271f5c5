import Testing

@testable import XCEngine

/// The restart policy's decisions and Docker's backoff, and the health state's transitions:
/// pure values, no daemon.
@Suite struct RestartPolicyTests {
  let exit0: Int32 = 0
  let exit3: Int32 = 3 << 8
  let killed: Int32 = 9  // SIGKILL

  @Test func onFailureRestartsFailuresUpToItsCount() throws {
    let policy = try RestartPolicy(mode: .onFailure, maxRetries: 2)
    #expect(policy.restarts(after: exit3, restarts: 0))
    #expect(policy.restarts(after: killed, restarts: 1))
    #expect(!policy.restarts(after: exit3, restarts: 2))
    #expect(!policy.restarts(after: exit0, restarts: 0))
    #expect(policy.description == "on-failure:2")
    let unbounded = try RestartPolicy(mode: .onFailure)
    #expect(unbounded.restarts(after: exit3, restarts: 1_000))
    #expect(unbounded.description == "on-failure")
  }

  @Test func alwaysAndNo() throws {
    #expect(try RestartPolicy(mode: .always).restarts(after: exit0, restarts: 50))
    #expect(!(try RestartPolicy(mode: .no).restarts(after: exit3, restarts: 0)))
  }

  @Test func aCountIsOnlyForOnFailureAndAtLeastOne() {
    #expect(throws: EngineError.self) { try RestartPolicy(mode: .always, maxRetries: 3) }
    #expect(throws: EngineError.self) { try RestartPolicy(mode: .onFailure, maxRetries: 0) }
  }

  @Test func backoffDoublesToAMinuteAndResetsAfterALongRun() {
    var backoff = RestartBackoff()
    var delays: [Duration] = []
    for _ in 0..<12 {
      let (delay, after) = backoff.next(ranFor: .milliseconds(50))
      delays.append(delay)
      backoff = after
    }
    #expect(Array(delays.prefix(4)) == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
    #expect(delays.last == .seconds(60))
    #expect(delays.allSatisfy { $0 <= .seconds(60) })
    // A run of 10 s or more is not a crash loop: back to 100 ms, then doubling again.
    let (reset, after) = backoff.next(ranFor: .seconds(10))
    #expect(reset == .milliseconds(100))
    #expect(after.next(ranFor: .zero).delay == .milliseconds(200))
  }

  @Test func healthTurnsHealthyOnAPassAndUnhealthyAfterRetries() {
    var h = HealthState()
    #expect(h.status == .starting)
    // Failures in the start period do not count.
    h = h.after(passed: false, inStartPeriod: true, retries: 2)
    #expect(h.status == .starting && h.failing_streak == 0)
    h = h.after(passed: true, inStartPeriod: true, retries: 2)
    #expect(h.status == .healthy)
    h = h.after(passed: false, inStartPeriod: false, retries: 2)
    #expect(h.status == .healthy && h.failing_streak == 1)
    h = h.after(passed: false, inStartPeriod: false, retries: 2)
    #expect(h.status == .unhealthy && h.failing_streak == 2)
    h = h.after(passed: true, inStartPeriod: false, retries: 2)
    #expect(h.status == .healthy && h.failing_streak == 0)
  }

  @Test func healthCheckValuesAreCheckedNamingTheFlag() {
    #expect(throws: EngineError.self) {
      try HealthCheck(command: [], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 0)
    }
    do {
      _ = try HealthCheck(command: ["true"], intervalMs: 0, timeoutMs: 1000, retries: 3, startPeriodMs: 0)
      Issue.record("an interval of 0 was accepted")
    } catch let e as EngineError {
      #expect(e.message.contains("--health-interval"), "\(e.message)")
    } catch {
      Issue.record("\(error)")
    }
    #expect(throws: EngineError.self) {
      try HealthCheck(command: ["true"], intervalMs: 1000, timeoutMs: 1000, retries: 0, startPeriodMs: 0)
    }
  }
}
