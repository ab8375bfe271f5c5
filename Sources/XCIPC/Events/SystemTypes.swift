// Wait statuses and the eventfd notifications that carry them are XCSystem's (the engine
// uses them too); the wire's users keep naming them through XCIPC.
@_exported import enum XCSystem.ProcessNotification
@_exported import struct XCSystem.WaitStatus
