/// Progress of a pull (xc's `download_stat`), as the daemon reports it.
public struct PullStatus: Sendable, Equatable {
  /// xc's `DownloadState`, plus a real `faulted` for failures.
  public enum State: String, Sendable, Equatable {
    case downloadManifest = "DownloadManifest"
    case downloadConfig = "DownloadConfig"
    case downloadLayers = "DownloadLayers"
    case extractLayers = "ExtractLayers"
    case done = "Done"
    case faulted = "Faulted"
  }

  /// One layer's progress: `downloaded` of `total` bytes (equal once it is in the store).
  public struct Layer: Sendable, Equatable {
    public var digest: String
    public var downloaded: Int64
    public var total: Int64
  }

  public var state: State
  /// The image manifest being pulled (the platform's one when the tag names an index), as
  /// JSON served by the registry.
  public var manifest: [UInt8]?
  /// The image config blob, as served.
  public var config: [UInt8]?
  /// Every layer, in order, once the manifest is known.
  public var layers: [Layer]
  /// What went wrong, when `state == .faulted`.
  public var fault: String?
  /// The references the image was tagged with, once done.
  public var tagged: [String]

  init(state: State) {
    self.state = state
    layers = []
    tagged = []
  }
}

/// Progress of a push (xc's `upload_stat`).
public struct PushStatus: Sendable, Equatable {
  /// Every layer's digest, in order.
  public var layers: [String] = []
  /// The layer being uploaded (index into `layers`).
  public var currentUploadIndex: Int?
  /// Set once the config blob is in the registry.
  public var configPushed = false
  /// Set once the manifest is in the registry.
  public var manifestPushed = false
  public var done = false
  /// What went wrong; set means the push ended.
  public var fault: String?
  /// Bytes of the current blob sent so far.
  public var bytes: Int64?
  /// Milliseconds since the current blob's upload started.
  public var durationMs: Int64?
  /// The size of the current blob.
  public var currentLayerSize: Int64?

  public init() {}
}
