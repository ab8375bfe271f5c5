/// A coding key for any string or integer, for objects whose keys are not known statically.
struct AnyCodingKey: CodingKey {
  var stringValue: String
  var intValue: Int?
  init(stringValue: String) { self.stringValue = stringValue }
  init(intValue: Int) {
    self.stringValue = String(intValue)
    self.intValue = intValue
  }
  init(_ s: String) { self.stringValue = s }
}
