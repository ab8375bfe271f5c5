/// The catalogue of the language's error codes: one name per code, grouped by area.
///
/// The strings are part of the interface — scripts read them as `$e.code` after `catch e` and golden
/// cases match them — so a code is renamed only deliberately, here. XCObjects adds its own
/// codes in `ObjectErrorCodes.swift`.
extension ShellError.Code {
  // MARK: control flow (no area: they unwind rather than fail)
  /// Work stopped because a sibling `par-each` item failed.
  public static let cancelled: Self = "cancelled"
  /// `exit` unwinding the script (carries the exit code).
  public static let exit: Self = "exit"
  /// Stopped by SIGINT, SIGTERM or SIGHUP (Ctrl-C).
  public static let interrupted: Self = "interrupted"
  /// A `timeout` block ran past its limit.
  public static let timeout: Self = "timeout"

  // MARK: args
  /// A closure was called with a different number of arguments than it takes.
  public static let argsCount: Self = "args.count"
  /// A command was given more positional arguments than it takes.
  public static let argsExtra: Self = "args.extra"
  /// A flag that takes a value was given none.
  public static let argsFlagValue: Self = "args.flag_value"
  /// A required argument was neither given nor piped in.
  public static let argsMissing: Self = "args.missing"
  /// `...` was applied to something that is not a list.
  public static let argsSpread: Self = "args.spread"
  /// A command was given a flag it does not have.
  public static let argsUnknownFlag: Self = "args.unknown_flag"
  /// An argument's value is of the wrong shape or out of range.
  public static let argsValue: Self = "args.value"

  // MARK: convert
  /// A value cannot be converted to the requested type.
  public static let convertFailed: Self = "convert.failed"

  // MARK: env
  /// An assignment to `$env` names more than one variable.
  public static let envPath: Self = "env.path"
  /// An environment variable was given something other than text.
  public static let envType: Self = "env.type"

  // MARK: eval
  /// `break` or `continue` outside a loop.
  public static let evalLoop: Self = "eval.loop"
  /// Calls nested too deeply.
  public static let evalRecursion: Self = "eval.recursion"

  // MARK: external
  /// A value that has no text form was passed to an external command.
  public static let externalArgument: Self = "external.argument"
  /// An external command exited non-zero.
  public static let externalFailed: Self = "external.failed"
  /// An external command could not be started.
  public static let externalSpawn: Self = "external.spawn"

  // MARK: format
  /// Invalid JSON.
  public static let formatJson: Self = "format.json"
  /// A value cannot be written as YAML.
  public static let formatYaml: Self = "format.yaml"

  // MARK: io
  /// `cd` cannot change to the directory (or may not change it here).
  public static let ioDirectory: Self = "io.directory"
  /// A file to create already exists.
  public static let ioExists: Self = "io.exists"
  /// A glob pattern could not be expanded.
  public static let ioGlob: Self = "io.glob"
  /// A file to read does not exist or cannot be read.
  public static let ioNotFound: Self = "io.not_found"
  /// A redirection cannot be opened or is not allowed here.
  public static let ioRedirect: Self = "io.redirect"
  /// A file cannot be written.
  public static let ioWrite: Self = "io.write"

  // MARK: match
  /// No arm of a `match` matched the subject.
  public static let matchNone: Self = "match.none"

  // MARK: math
  /// Division by zero.
  public static let mathDivisionByZero: Self = "math.division_by_zero"
  /// An argument outside a math function's domain.
  public static let mathDomain: Self = "math.domain"
  /// Integer overflow.
  public static let mathOverflow: Self = "math.overflow"

  // MARK: module
  /// A module has no function of that name.
  public static let moduleName: Self = "module.name"
  /// A module used with `use` has a statement other than a declaration.
  public static let moduleStatement: Self = "module.statement"

  // MARK: name
  /// A bare field name used where there is no row.
  public static let nameField: Self = "name.field"
  /// An assignment to a `let` or `const` name.
  public static let nameImmutable: Self = "name.immutable"
  /// No command of that name.
  public static let nameUnknownCommand: Self = "name.unknown_command"
  /// No variable of that name.
  public static let nameUnknownVariable: Self = "name.unknown_variable"

  // MARK: parse
  /// A character the lexer does not accept.
  public static let parseCharacter: Self = "parse.character"
  /// Something follows a closure where a call cannot be.
  public static let parseClosureCall: Self = "parse.closure_call"
  /// A `const` whose value is not known before the script runs.
  public static let parseConst: Self = "parse.const"
  /// Nesting deeper than the parser allows.
  public static let parseDepth: Self = "parse.depth"
  /// An unknown escape in a string.
  public static let parseEscape: Self = "parse.escape"
  /// A malformed number, duration or size literal.
  public static let parseLiteral: Self = "parse.literal"
  /// A `match` pattern that is not a constant, range or `_`.
  public static let parseMatchPattern: Self = "parse.match_pattern"
  /// A declaration without a name.
  public static let parseName: Self = "parse.name"
  /// Nushell's `$"…"` interpolation, which xcsh does not use.
  public static let parseNushellString: Self = "parse.nushell_string"
  /// A word starting with a backtick: bash's command substitution, which xcsh writes `(…)`.
  public static let parseBacktick: Self = "parse.backtick"
  /// A word used as an operator that is not one in xcsh.
  public static let parseOperator: Self = "parse.operator"
  /// A redirection that does not end its pipeline.
  public static let parseRedirection: Self = "parse.redirection"
  /// A token the grammar does not allow here.
  public static let parseUnexpected: Self = "parse.unexpected"
  /// A string, block or comment left open.
  public static let parseUnterminated: Self = "parse.unterminated"
  /// `$` not followed by a variable name.
  public static let parseVariable: Self = "parse.variable"

  // MARK: path
  /// A field assignment into a value that has no fields.
  public static let pathAssign: Self = "path.assign"
  /// A list index out of range.
  public static let pathIndex: Self = "path.index"
  /// A cell path names a field the value lacks.
  public static let pathMissing: Self = "path.missing"
  /// A cell path step that does not apply to the value.
  public static let pathType: Self = "path.type"

  // MARK: record
  /// A record field to insert already exists.
  public static let recordExists: Self = "record.exists"
  /// A record key that is not a string.
  public static let recordKey: Self = "record.key"

  // MARK: regex
  /// An invalid regular expression.
  public static let regexInvalid: Self = "regex.invalid"

  // MARK: string
  /// A closure interpolated into a string.
  public static let stringInterpolation: Self = "string.interpolation"

  // MARK: timeout
  /// The SIGALRM of a `timeout` block arrived (the block's caller turns it into `timeout`).
  public static let timeoutAlarm: Self = "timeout.alarm"

  // MARK: type
  /// A condition that is not a bool.
  public static let typeCondition: Self = "type.condition"
  /// A value of the wrong type for the command.
  public static let typeMismatch: Self = "type.mismatch"
  /// An operator applied to values of types it does not take.
  public static let typeOperands: Self = "type.operands"
  /// An unknown type name in an annotation or conversion.
  public static let typeUnknown: Self = "type.unknown"

  // MARK: user
  /// An error made by `error make` without a code.
  public static let userError: Self = "user.error"

  // MARK: value
  /// An empty input where a value is needed.
  public static let valueEmpty: Self = "value.empty"
  /// A range too large to collect.
  public static let valueRange: Self = "value.range"
  /// An unbounded stream where a finite one is needed.
  public static let valueUnbounded: Self = "value.unbounded"

  /// Every code above, for the tests that keep the catalogue unique and well formed.
  public static let shellCatalogue: [Self] = [
    .cancelled,
    .exit,
    .interrupted,
    .timeout,
    .argsCount,
    .argsExtra,
    .argsFlagValue,
    .argsMissing,
    .argsSpread,
    .argsUnknownFlag,
    .argsValue,
    .convertFailed,
    .envPath,
    .envType,
    .evalLoop,
    .evalRecursion,
    .externalArgument,
    .externalFailed,
    .externalSpawn,
    .formatJson,
    .formatYaml,
    .ioDirectory,
    .ioExists,
    .ioGlob,
    .ioNotFound,
    .ioRedirect,
    .ioWrite,
    .matchNone,
    .mathDivisionByZero,
    .mathDomain,
    .mathOverflow,
    .moduleName,
    .moduleStatement,
    .nameField,
    .nameImmutable,
    .nameUnknownCommand,
    .nameUnknownVariable,
    .parseCharacter,
    .parseClosureCall,
    .parseConst,
    .parseDepth,
    .parseEscape,
    .parseLiteral,
    .parseMatchPattern,
    .parseName,
    .parseNushellString,
    .parseBacktick,
    .parseOperator,
    .parseRedirection,
    .parseUnexpected,
    .parseUnterminated,
    .parseVariable,
    .pathAssign,
    .pathIndex,
    .pathMissing,
    .pathType,
    .recordExists,
    .recordKey,
    .regexInvalid,
    .stringInterpolation,
    .timeoutAlarm,
    .typeCondition,
    .typeMismatch,
    .typeOperands,
    .typeUnknown,
    .userError,
    .valueEmpty,
    .valueRange,
    .valueUnbounded,
  ]
}
