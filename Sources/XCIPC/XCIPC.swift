// Placeholder; the XCIPC module lands with the IPC work.
