import Testing

@testable import XCJailfile

@Suite struct InterpolationTests {
  func expand(_ text: String, _ vars: [String: String]) throws -> String {
    try InterpolatedString.parse(text).expand { vars[$0] }
  }

  @Test func formsOfVariables() throws {
    let v = ["A": "1", "B_2": "two"]
    #expect(try expand("x$A-${B_2}y", v) == "x1-twoy")
    #expect(try expand("${A:-d}${C:-d}", v) == "1d")
    #expect(try expand("${C:=d}", v) == "d")
    #expect(try expand("${A:+set}${C:+set}", v) == "set")
    #expect(try expand("${A:?need A}", v) == "1")
    #expect(try expand(#"${C:-"a}b"}"#, v) == "a}b")
    #expect(try expand("${C:-${A}}", v) == "1")
    #expect(try expand("${C:-pre-${D:-x}-post}", v) == "pre-x-post")
    #expect(try expand("no variables", v) == "no variables")
    #expect(try InterpolatedString.parse("$A ${B:-$C}").variables == ["A", "B", "C"])
  }

  @Test func failuresCarryTheOffset() throws {
    func failure(_ text: String, _ vars: [String: String] = [:]) -> InterpolatedString.Failure? {
      do {
        _ = try expand(text, vars)
        return nil
      } catch let f as InterpolatedString.Failure { return f } catch { return nil }
    }
    #expect(failure("ab$C") == .init(offset: 2, message: "the variable `C` is not set"))
    #expect(failure("${C:?give C}")?.message == "the variable `C` is not set: give C")
    #expect(failure("a $ b")?.offset == 2)
    #expect(failure("a $")?.message == "expected a variable name or `{` after `$`, found the end of the text")
    #expect(failure("${}")?.message == "expected a variable name after `${`")
    #expect(failure("x${A")?.offset == 1)
    #expect(failure("${A-x}")?.message.hasPrefix("expected `}` or one of `:-`") == true)
    #expect(failure("${A:-x")?.message == "expected `}` to close `${` here")
  }
}
