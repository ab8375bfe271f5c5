import Testing

@testable import XCJailfile

/// Any text is parsed or refused with a located error: no crash, no hang, locations in range.
@Suite struct JailfileRobustnessTests {
  /// A small deterministic generator (xorshift), so failures reproduce.
  struct Rng {
    var state: UInt64
    mutating func next(_ n: Int) -> Int {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return Int(state % UInt64(n))
    }
  }

  static let pieces = [
    "FROM", "RUN", "COPY", "ENV", "ARG", "CMD", "WORKDIR", "VOLUME", "ADDENV", "ENTRYPOINT", "ALLOW",
    " ", " ", "\t", "\n", "\n", "\r\n", "\\\n", "\\", "#", "\"", "'", "[", "]", ":", ",", "=", "<<", "<<-",
    "EOF", "$", "${", "}", ":-", ":?", ":+", "a", "B", "/x", "--from", "-d", "as", "é", "😀", "0",
  ]

  @Test func randomTextNeverCrashesAndErrorsStayInRange() {
    var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
    var parsed = 0
    var refused = 0
    for _ in 0..<20_000 {
      var text = ""
      for _ in 0..<rng.next(40) { text += Self.pieces[rng.next(Self.pieces.count)] }
      let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
      do {
        let plan = try BuildPlan.parse(text)
        parsed += 1
        for step in plan.steps {
          #expect(step.directive.nameSpan.start.line <= lines)
          _ = step.summary
        }
      } catch {
        refused += 1
        #expect(error.location.line >= 1 && error.location.line <= lines + 1, "\(error) in \(text.debugDescription)")
        #expect(error.location.column >= 1)
        #expect(!error.message.isEmpty)
      }
    }
    // Both outcomes are exercised.
    #expect(parsed > 0 && refused > 0, "parsed \(parsed), refused \(refused)")
  }

  @Test func largeInputsParseQuickly() {
    let line = "RUN echo \"a b\" 'c' d=e \\\n  f\n"
    let text = "FROM a\n" + String(repeating: line, count: 20_000)
    let clock = ContinuousClock()
    var count = 0
    let elapsed = clock.measure { count = (try? BuildPlan.parse(text).steps.count) ?? -1 }
    #expect(count == 20_001)
    #expect(elapsed < .seconds(10), "\(elapsed)")
  }
}
