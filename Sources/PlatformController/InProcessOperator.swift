import ControllerRuntime
import Logging
import ServiceLifecycle

/// The platform operator running as a `ServiceGroup` inside another program (the demo,
/// tests), stopped by a graceful shutdown instead of a signal.
public final class InProcessOperator: Sendable {
    public let platformOperator: PlatformOperator
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Starts every informer, the event recorder and the controller at once.
    public init(_ platformOperator: PlatformOperator, logger: Logger) {
        self.platformOperator = platformOperator
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: platformOperator.services.map { .init(service: $0) }, gracefulShutdownSignals: [], logger: logger))
        self.group = group
        running = Task { try await group.run() }
    }

    /// Lets in-flight reconciles finish, then stops everything; returns once it has.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
