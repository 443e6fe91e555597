import HTTPTransport
import Synchronization

/// Keeps every transfer record a transport reports, for tests that check HTTP versions,
/// connection reuse, retries and cancellations.
public final class RecordingObserver: HTTPTransportObserver {
    public let records = Mutex<[HTTPTransferRecord]>([])

    public init() {}

    public func transferFinished(_ record: HTTPTransferRecord) { records.withLock { $0.append(record) } }
}
