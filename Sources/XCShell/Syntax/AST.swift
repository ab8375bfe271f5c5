/// The syntax tree. Every node carries the span of the text it came from.

/// A sequence of statements with its own scope; a class so closures and functions share it.
public final class Block: @unchecked Sendable {
  public let statements: [Statement]
  public var span: Span
  /// Whether any statement directly in this block is a `defer` (so the evaluator only then keeps a defer list).
  public var hasDefer: Bool
  /// Whether the block declares variables or functions (if not, it can run in its parent's frame).
  public var declares: Bool
  /// The `fn` declarations directly in this block, hoisted when it runs.
  public let functions: [FunctionDecl]
  /// The expression when the block is exactly one (`{ $x * 2 }`, an `if` branch): running the
  /// block is then evaluating it, in the enclosing scope.
  let singleExpression: Expr?

  public init(statements: [Statement], span: Span) {
    self.statements = statements
    self.span = span
    self.functions = statements.compactMap { if case .fnDecl(let d) = $0.kind { d } else { nil } }
    self.hasDefer = statements.contains { if case .deferBlock = $0.kind { true } else { false } }
    self.declares = statements.contains {
      switch $0.kind {
      case .letDecl, .fnDecl, .source, .use: true
      default: false
      }
    }
    if statements.count == 1, case .pipeline(let p) = statements[0].kind { singleExpression = p.singleExpression } else { singleExpression = nil }
  }

  /// Each statement's compiled form, or nil where it is walked (empty: none compiled); set by
  /// the resolver (`StatementCompiler`).
  var compiled: [StatementCode?] = [] {
    didSet {
      // Running the block in its scope is then running these in order: no defers, nothing
      // declared or hoisted, no statement with a value.
      let all = compiled.compactMap { $0 }
      compiledWhole = !all.isEmpty && all.count == statements.count && !hasDefer && !declares ? all : nil
    }
  }
  /// Every statement's compiled form, when all have one (see `compiled`).
  private(set) var compiledWhole: [StatementCode]? = nil
}

public struct Statement: Sendable {
  public indirect enum Kind: Sendable {
    case letDecl(name: String, nameSpan: Span, mutable: Bool, type: TypeAnnotation?, value: Pipeline)
    case assign(target: AssignTarget, op: BinaryOp?, value: Pipeline)
    case fnDecl(FunctionDecl)
    case forLoop(name: String, nameSpan: Span, index: (String, Span)?, iterable: Expr, body: Block)
    case whileLoop(condition: Expr, body: Block)
    case loop(body: Block)
    case breakLoop
    case continueLoop
    case returnValue(Pipeline?)
    case deferBlock(Block)
    case source(path: Expr)
    case use(path: Expr, names: [String]?)
    case pipeline(Pipeline)
  }
  public var kind: Kind
  public var span: Span
}

/// `x = …`, `x.field = …`, `$env.NAME = …`. A class: an assignment run in a loop passes one
/// reference, not a copy of its name and path.
public final class AssignTarget: Sendable {
  public let name: String
  public let span: Span
  public let path: [PathMember]
  /// `$env.NAME = …` sets the environment rather than a variable.
  public let isEnvironment: Bool
  /// Where the variable is, filled in by the resolver.
  let site = AssignSite()

  public init(name: String, span: Span, path: [PathMember]) {
    self.name = name
    self.span = span
    self.path = path
    self.isEnvironment = name == "env"
  }
}

public struct TypeAnnotation: Sendable {
  public var name: String
  public var span: Span
}

/// `a | b | c`, and what runs after it in `a && b || c`.
public struct Pipeline: Sendable {
  public let elements: [PipelineElement]
  public var span: Span
  /// `&& b`, `|| c`: pipelines that run after this one depending on whether it failed.
  public var chain: [ChainLink] = []
  /// The expression when `elements` is exactly one, kept so running it copies no element.
  private let soleExpression: Expr?

  public init(elements: [PipelineElement], span: Span, chain: [ChainLink] = []) {
    self.elements = elements
    self.span = span
    self.chain = chain
    if elements.count == 1, case .expression(let e) = elements[0] { soleExpression = e } else { soleExpression = nil }
  }

  /// The expression when the whole pipeline is one (`$x * 2`, no `|`, `&&` or `||`): its value
  /// is the pipeline's.
  var singleExpression: Expr? { chain.isEmpty ? soleExpression : nil }
}

/// One `&& pipeline` or `|| pipeline` of a chain.
public struct ChainLink: Sendable {
  public enum Op: String, Sendable { case and = "&&", or = "||" }
  public var op: Op
  public var opSpan: Span
  public var pipeline: Pipeline
}

public enum PipelineElement: Sendable {
  case expression(Expr)
  case call(CallNode)
  case external(ExternalNode)

  public var span: Span {
    switch self {
    case .expression(let e): e.span
    case .call(let c): c.span
    case .external(let x): x.span
    }
  }
}

/// A call of a built-in, a function or an object verb: `sort-by size -r`.
public struct CallNode: Sendable {
  public var name: String
  public var nameSpan: Span
  public var arguments: [Argument]
  public var span: Span
  /// `> file`, `2> file`, `< file`, … written after the arguments.
  public var redirections: [Redirection] = []
}

/// A host program: an unknown command word or `^name`.
public struct ExternalNode: Sendable {
  public var name: String
  public var nameSpan: Span
  public var arguments: [Argument]
  public var span: Span
  /// Whether it was written `^name`.
  public var forced: Bool
  public var redirections: [Redirection] = []
}

/// A redirection of a command's standard input, output or error to a file, as in bash.
public struct Redirection: Sendable {
  public enum Kind: String, Sendable {
    case stdout = ">", appendStdout = ">>", stderr = "2>", appendStderr = "2>>", both = "&>", appendBoth = "&>>"
    case stdin = "<"
    /// `2>&1`: standard error goes where standard output goes.
    case stderrToStdout = "2>&1"

    public var writesStdout: Bool { self == .stdout || self == .appendStdout || self == .both || self == .appendBoth }
    public var writesStderr: Bool { self == .stderr || self == .appendStderr || self == .both || self == .appendBoth }
    public var appends: Bool { self == .appendStdout || self == .appendStderr || self == .appendBoth }
  }
  public var kind: Kind
  /// The file; nil for `2>&1`.
  public var target: Expr?
  /// The operator as written.
  public var span: Span
}

extension [Redirection] {
  /// Whether standard error ends up where the command's standard output goes: a `2>&1` that no
  /// later redirection of either stream overrides (`2>&1 > f` sends it to the old output).
  public var stderrFollowsStdout: Bool {
    guard let i = lastIndex(where: { $0.kind == .stderrToStdout }) else { return false }
    return !self[(i + 1)...].contains { $0.kind.writesStdout || $0.kind.writesStderr }
  }

  /// Whether standard error goes where standard output went before a file took it, read left to
  /// right as bash does: `2>&1 > f` (so in a pipeline, the pipe carries standard error).
  public var stderrToOldStdout: Bool {
    var follows = false
    var old = false
    var stdoutToFile = false
    for r in self {
      if r.kind == .stderrToStdout {
        follows = !stdoutToFile
        old = false
        continue
      }
      if r.kind.writesStderr {
        follows = false
        old = false
      } else if r.kind.writesStdout, follows {
        follows = false
        old = true
      }
      if r.kind.writesStdout { stdoutToFile = true }
    }
    return old
  }
}

public enum Argument: Sendable {
  case positional(Expr)
  /// `--name`, `-n`, `--name=value`; the text is kept for external commands.
  case flag(name: String, short: Bool, span: Span, value: Expr?)
  /// `--`: everything after is positional.
  case endOfFlags(Span)
  /// `...$list`: each item of the list is one positional argument (the span is the `...`).
  case spread(Expr, Span)

  public var span: Span {
    switch self {
    case .positional(let e): e.span
    case .spread(let e, let s): s.to(e.span)
    case .flag(_, _, let s, let v): v.map { s.to($0.span) } ?? s
    case .endOfFlags(let s): s
    }
  }
}

public enum PathMember: Sendable {
  case name(String, Span, optional: Bool)
  case index(Int, Span, optional: Bool)

  public var span: Span {
    switch self {
    case .name(_, let s, _), .index(_, let s, _): s
    }
  }
  public var optional: Bool {
    switch self {
    case .name(_, _, let o), .index(_, _, let o): o
    }
  }
}

public final class Expr: @unchecked Sendable {
  public indirect enum Kind {
    case literal(Value)
    case interpolated([InterpolationPart])
    case variable(String)
    /// A bare name in a row condition: the field of the row (`where status == running`).
    case field(String)
    case path(base: Expr, members: [PathMember])
    case list([Expr])
    case record([(key: Expr, value: Expr)])
    case closure(ClosureDecl)
    case subexpression(Pipeline)
    case unary(op: String, operand: Expr)
    case binary(op: BinaryOp, opSpan: Span, lhs: Expr, rhs: Expr)
    case range(from: Expr?, to: Expr?, inclusive: Bool)
    case ifElse(branches: [(condition: Expr, body: Block)], otherwise: Block?)
    case tryCatch(body: Block, name: String?, handler: Block?)
    /// A `{ }` block written where a value is expected but run as a statement body.
    case block(Block)
    /// `...$xs` inside a list literal: the list's items in place.
    case spread(Expr)
    /// `match SUBJECT { PATTERN [| PATTERN…] [if GUARD] => BODY … }`.
    case match(subject: Expr, arms: [MatchArm])
  }
  public let kind: Kind
  public let span: Span
  /// For `$name`: where its binding is, when the resolver could tell (else it is found by name).
  var address: VarAddress?
  /// What `Evaluator.eval` runs instead of walking the node, set by the resolver (`ExprCompiler`).
  var compiled: CompiledExpr?
  public init(_ kind: Kind, _ span: Span) {
    self.kind = kind
    self.span = span
  }
}

public enum InterpolationPart: Sendable {
  case text(String)
  case expr(Expr)
}

/// A parameter list as written in `fn name [ ... ]` or `{|a, b| ...}`.
public struct ParameterDecl: Sendable {
  public enum Kind: Sendable { case positional, rest, flag }
  public var name: String
  public var span: Span
  public var kind: Kind
  public var type: TypeAnnotation?
  public var defaultValue: Expr?
  public var short: Character?
  /// `name?` marks an optional positional without a default.
  public var optional: Bool
  /// A `# comment` after the parameter documents it.
  public var doc: String
}

public final class ClosureDecl: @unchecked Sendable {
  public let parameters: [ParameterDecl]
  public let body: Block
  public let span: Span
  /// The parameter names when every parameter is a plain positional (no type, default or rest),
  /// so calls can bind them without looking at the declarations.
  let simpleParameterNames: [String]?
  /// At most one parameter, and that a plain positional: a call with one value binds it (or
  /// `$it`) and `$in` to the value (`Evaluator.invoke(_:one:at:)`).
  let takesOneValue: Bool

  public init(parameters: [ParameterDecl], body: Block, span: Span) {
    self.parameters = parameters
    self.body = body
    self.span = span
    let simple = parameters.allSatisfy { $0.kind == .positional && $0.type == nil && $0.defaultValue == nil }
    self.simpleParameterNames = simple ? parameters.map(\.name) : nil
    takesOneValue = simple && parameters.count <= 1
  }
}

public final class FunctionDecl: @unchecked Sendable {
  public let name: String
  public let nameSpan: Span
  public let parameters: [ParameterDecl]
  public let body: Block
  /// The comment lines right above `fn`, used by `help`.
  public let doc: String
  public let span: Span
  public init(name: String, nameSpan: Span, parameters: [ParameterDecl], body: Block, doc: String, span: Span) {
    self.name = name
    self.nameSpan = nameSpan
    self.parameters = parameters
    self.body = body
    self.doc = doc
    self.span = span
  }
}

/// One arm of `match`: its patterns (alternatives), an optional guard and the body.
public struct MatchArm: Sendable {
  public enum Pattern: Sendable {
    /// `_`: anything.
    case wildcard(Span)
    /// A constant value, or a range that a number must fall in.
    case value(Expr)
  }
  public var patterns: [Pattern]
  public var guardExpr: Expr?
  public var body: Block
}

/// A resolved variable: `depth` scopes up from the current one, slot `index` there.
struct VarAddress: Equatable {
  let depth: Int32
  let index: Int32
  init(depth: Int, index: Int) {
    self.depth = Int32(truncatingIfNeeded: depth)
    self.index = Int32(truncatingIfNeeded: index)
  }
}

/// The resolved address of an assignment's target, filled in by the resolver.
public final class AssignSite: @unchecked Sendable {
  var address: VarAddress?
  init() {}
}
