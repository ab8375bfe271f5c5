// local placeholder (not committed on ipc)
