import XCShell

extension ObjectCommands {
  /// The object commands beyond the first slice (info, ps, images, kill, run, exec, show).
  static func lifecycle(_ s: DaemonSession, environment: [String: String]) -> [any Command] {
    [
      ContainerCommands.create(s), ContainerCommands.runMain(s), ContainerCommands.attach(s),
      ContainerCommands.link(s), ContainerCommands.commit(s), WaitCommand.make(s),
    ]
      + ImageCommands.all(s) + RegistryCommands.all(s) + NetworkCommands.all(s) + VolumeCommands.all(s)
      + RdrCommands.all(s) + [CopyCommand.make(s), PortCommand.make(s), ResourceCommands.stats(s), RemoveContainerCommand.make(s), StopCommand.make(s), StartCommands.start(s), StartCommands.restart(s)] + ImageArchiveCommands.all(s) + HostCommands.all(s, environment: environment)
      + StackCommands.all(s)
  }
}
