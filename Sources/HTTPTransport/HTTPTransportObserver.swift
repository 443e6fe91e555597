/// Receives one record per finished transfer, so a metrics exporter can count requests
/// and latency by method and status without the transport depending on it.
///
/// Caveats: called on the transport's event-loop thread; implementations must be quick
/// and must not block.
public protocol HTTPTransportObserver: Sendable {
    func transferFinished(_ record: HTTPTransferRecord)
}

/// What the transport knows about one finished transfer.
public struct HTTPTransferRecord: Sendable, Equatable {
    public var method: String
    /// Scheme, host and port only.
    public var origin: String
    /// HTTP status, or nil when no response arrived.
    public var status: Int?
    /// Set when the transfer failed below HTTP or was cancelled.
    public var failure: HTTPTransportError.Kind?
    public var cancelled: Bool
    public var duration: Duration
    /// "1.1", "2", …; nil when no response arrived.
    public var httpVersion: String?
    /// Connections this transfer had to open (0 when it reused a pooled one).
    public var newConnections: Int
}
