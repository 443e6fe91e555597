/// A probe around one async client call, e.g. S3 HeadBucket through the AWS client: the call
/// is timed as the `query` stage under the probe's deadline, and its error is classified
/// into a `ProbeFailure`.
///
/// Caveats: the deadline cancels the call's task, so the call must honour cancellation (the
/// HTTP transport does) for a timeout to end the probe promptly. `classify` must not put
/// credentials into the message; the default uses the error's description, so pass a
/// classifier when the client's errors could carry them.
public struct OperationProbe: DataPlaneProbe {
    public let target: ProbeTarget
    /// Default 10 seconds.
    public var timeout: Duration
    private let operation: @Sendable () async throws -> Void
    private let classify: @Sendable (any Error) -> ProbeFailure

    public init(
        target: ProbeTarget, timeout: Duration = .seconds(10),
        operation: @escaping @Sendable () async throws -> Void,
        classify: @escaping @Sendable (any Error) -> ProbeFailure = OperationProbe.describeFailure
    ) {
        self.target = target
        self.timeout = timeout
        self.operation = operation
        self.classify = classify
    }

    /// The default classifier: reason "RequestFailed" and the error's description.
    public static func describeFailure(_ error: any Error) -> ProbeFailure {
        ProbeFailure(stage: .query, reason: "RequestFailed", message: String(describing: error))
    }

    public func probe() async -> ProbeResult {
        let progress = ProbeProgress(startingIn: .query)
        let target = self.target
        let timeout = self.timeout
        let operation = self.operation
        let classify = self.classify
        return await withProbeDeadline(timeout) {
            progress.finish(target, failure: progress.timeoutFailure(after: timeout))
        } _: {
            do {
                try await operation()
                return progress.finish(target, failure: nil)
            } catch is CancellationError {
                return progress.finish(target, failure: ProbeFailure(stage: .query, reason: ProbeFailure.Reason.cancelled, message: "the probe was cancelled"))
            } catch {
                return progress.finish(target, failure: classify(error))
            }
        }
    }
}
