/// The phase of a pull (`ImportImageStatus.state`). `faulted` exists in xc but is never sent.
public enum DownloadState: String, Codable, Sendable, Hashable, CaseIterable {
  case unavailable = "Unavailable"
  case downloadManifest = "DownloadManifest"
  case downloadConfig = "DownloadConfig"
  case downloadLayers = "DownloadLayers"
  case extractLayers = "ExtractLayers"
  case done = "Done"
  case faulted = "Faulted"
}
