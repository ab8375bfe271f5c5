/// Every built-in command, grouped by category, in one list (like Nushell's default context).
public enum Builtins {
  public static var all: [any Command] {
    CoreCommands.all + DoCommand.all + FilterCommands.all + StringCommands.all + MathCommands.all
      + FormatCommands.all + PathCommands.all + WorkingDirectoryCommands.all + DateCommands.all
  }

  /// A registry holding the built-ins.
  public static func registry() -> CommandRegistry { CommandRegistry(all) }
}
