import Testing

@testable import XCShell

/// The lexer's edge cases: literals, strings, modes, continuation, comments, Unicode.
@Suite struct LexerTests {
  func tokens(_ text: String, _ mode: Lexer.Mode = .expression) throws -> [Token.Kind] {
    let source = SourceMap.shared.add(name: "<test>", text: text)
    var lexer = Lexer(source: source)
    var out: [Token.Kind] = []
    while true {
      let t = try lexer.next(mode)
      if t.kind == .eof { return out }
      out.append(t.kind)
    }
  }

  func lexError(_ text: String, _ mode: Lexer.Mode = .expression) -> ShellError? {
    do {
      _ = try tokens(text, mode)
      return nil
    } catch let e as ShellError {
      return e
    } catch {
      return nil
    }
  }

  @Test func numbersAndUnits() throws {
    #expect(try tokens("42 0x1F 1_000 1.5 1e3") == [.int(42), .int(31), .int(1000), .float(1.5), .float(1000)])
    #expect(try tokens("250ms 2s 5m 1h") == [.duration(250_000_000), .duration(2_000_000_000), .duration(300_000_000_000), .duration(3_600_000_000_000)])
    #expect(try tokens("512B 10KB 64MiB") == [.size(512), .size(10_000), .size(64 << 20)])
  }

  @Test func rangeIsNotAFloat() throws {
    #expect(try tokens("1..5") == [.int(1), .punct(".."), .int(5)])
    #expect(try tokens("0..<n") == [.int(0), .punct("..<"), .word("n")])
  }

  @Test func badUnitAndOverflowAreErrors() {
    #expect(lexError("5xs")?.message == "unknown unit `xs` in `5xs`")
    #expect(lexError("99999999999999999999")?.code == "parse.literal")
  }

  @Test func escapesAndInterpolation() throws {
    #expect(try tokens(#""a\tb\n\$x\u{e9}""#) == [.string([.text("a\tb\n$xé")])])
    let kinds = try tokens(#""web-$i ip $c.ip n $(1 + $n)""#)
    guard case .string(let parts)? = kinds.first else {
      Issue.record("not a string")
      return
    }
    #expect(parts.count == 6)
    if case .variable(let s, let e) = parts[3] { #expect(e - s == 5) }  // `$c.ip`
  }

  @Test func nestedInterpolationAndQuotes() throws {
    let kinds = try tokens(#""outer $("inner $(1 + 2) )" ) end""#)
    guard case .string(let parts)? = kinds.first else {
      Issue.record("not a string")
      return
    }
    #expect(parts.count == 3)
  }

  @Test func unterminatedStringIsPartial() {
    let e = lexError(#""abc"#)
    #expect(e?.message == "unterminated string")
    #expect(e?.partial == true)
    #expect(lexError("'abc")?.partial == true)
    #expect(lexError(#""a $(1 + "#)?.partial == true)
  }

  @Test func unknownEscapeIsAnError() {
    #expect(lexError(#""\q""#)?.code == "parse.escape")
  }

  @Test func commandModeWords() throws {
    #expect(
      try tokens("run alpine:3.18 --name=web -it -- x", .command) == [
        .word("run"), .word("alpine:3.18"), .flag(name: "name", short: false, inlineValue: true), .word("web"),
        .flag(name: "it", short: true, inlineValue: false), .endOfFlags, .word("x"),
      ])
    #expect(try tokens("3.18-alpine -5 ./a/b.txt", .command) == [.word("3.18-alpine"), .int(-5), .word("./a/b.txt")])
  }

  @Test func commentsAndContinuation() throws {
    #expect(try tokens("a # comment\nb", .command) == [.word("a"), .terminator, .word("b")])
    #expect(try tokens("a \\\n b", .command) == [.word("a"), .word("b")])
    #expect(try tokens("a#b", .command) == [.word("a#b")])
  }

  @Test func unicodeWordsAndColumns() throws {
    #expect(try tokens("héllo wörld", .command) == [.word("héllo"), .word("wörld")])
    let source = SourceMap.shared.add(name: "<u>", text: "é = 1\nxé y")
    #expect(source.location(of: 11).column == 4)  // the `y` after two-byte `é`
  }

  @Test func compoundWordsInterpolate() throws {
    // `http://$ip:80/`: text, the variable, text (byte offsets of `$ip` are 7..<10).
    #expect(try tokens("http://$ip:80/", .command) == [.string([.text("http://"), .variable(start: 7, end: 10), .text(":80/")])])
    // A word that is only a variable path stays a variable; `a$` has no variable.
    #expect(try tokens("$x", .command) == [.variable("x")])
    #expect(try tokens("a$", .command) == [.word("a$")])
  }

  @Test func spreadAndChainTokens() throws {
    #expect(try tokens("...$xs", .command) == [.punct("..."), .variable("xs")])
    #expect(try tokens("... ...foo", .command) == [.word("..."), .word("...foo")])
    #expect(try tokens("a || b && c", .command) == [.word("a"), .punct("||"), .word("b"), .word("&&"), .word("c")])
  }

  /// bash's `` `date` `` is an error at the backtick (it was the word "`date`", passed on as
  /// text); a backtick inside a word or in quotes is text.
  @Test func aWordStartingWithABacktickIsAnError() throws {
    for code in ["echo `date`", "let x = `date`", "[`a`]"] {
      let e = lexError(code)
      #expect(e?.code == "parse.backtick", "\(code)")
      #expect(e?.span.map { Int($0.start) } == Array(code.utf8).firstIndex(of: UInt8(ascii: "`")), "\(code)")
    }
    #expect(try tokens(#""`ps`""#, .command) == [.string([.text("`ps`")])])
    #expect(try tokens("a`b", .command) == [.word("a`b")])
  }

  @Test func nushellStringIsAnErrorAtTheDollar() {
    let e = lexError(#"$"hi ($n)""#)
    #expect(e?.code == "parse.nushell_string")
    #expect(e?.span?.start == 0)
  }
}
