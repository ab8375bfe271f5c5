// Placeholder; the XCSystem module lands with the IPC work.
