import Synchronization
import Foundation

/// Records which stage a probe is in and how long each took, shared between the probe's
/// task and its deadline so a timeout can say where it struck.
final class ProbeProgress: Sendable {
    private struct State {
        var stage: ProbeStage
        var stageStart: ContinuousClock.Instant
        var timings: [ProbeStageTiming] = []
        var finished = false
    }

    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let state: Mutex<State>

    init(startingIn stage: ProbeStage = .connect) {
        let now = ContinuousClock.now
        start = now
        state = Mutex(State(stage: stage, stageStart: now))
    }

    /// Time left before `timeout` from the probe's start; at least a millisecond so a connect
    /// call given it still fails by itself rather than taking zero as "no timeout".
    func remaining(of timeout: Duration) -> Duration {
        max(.milliseconds(1), timeout - (clock.now - start))
    }

    func begin(_ stage: ProbeStage) {
        let now = clock.now
        state.withLock { state in
            guard !state.finished else { return }
            state.timings.append(ProbeStageTiming(stage: state.stage, duration: now - state.stageStart))
            state.stage = stage
            state.stageStart = now
        }
    }

    /// The probe's result; the first call wins, so a late body cannot overwrite a timeout.
    func finish(_ target: ProbeTarget, failure: ProbeFailure?) -> ProbeResult {
        let now = clock.now
        return state.withLock { state in
            if !state.finished {
                state.finished = true
                state.timings.append(ProbeStageTiming(stage: state.stage, duration: now - state.stageStart))
            }
            let outcome: ProbeResult.Outcome = failure.map { .unhealthy($0) } ?? .healthy(latency: now - start)
            return ProbeResult(target: target, outcome: outcome, stages: state.timings, checkedAt: Date())
        }
    }

    /// A timeout failure naming the stage it struck in.
    func timeoutFailure(after timeout: Duration) -> ProbeFailure {
        let stage = state.withLock { $0.stage }
        return ProbeFailure(stage: stage, reason: ProbeFailure.Reason.timeout, message: "no answer within \(timeout) (during \(stage))")
    }
}

/// Removes every occurrence of `secret` from `text`, as a last guard before server-supplied
/// text goes into a status message.
func redacting(_ secret: String, in text: String) -> String {
    guard !secret.isEmpty else { return text }
    return text.replacingOccurrences(of: secret, with: "[redacted]")
}

/// Runs one connection probe under its deadline: a timeout is reported in the stage that was
/// under way, and every failure message has the probe's secret removed. Each probe goes
/// through here, so none can report timeouts differently or forget the redaction.
func runStagedProbe(
    _ target: ProbeTarget, timeout: Duration, secret: String?,
    _ stages: @escaping @Sendable (ProbeProgress) async throws(ProbeAbort) -> Void
) async -> ProbeResult {
    let progress = ProbeProgress()
    return await withProbeDeadline(timeout) {
        progress.finish(target, failure: progress.timeoutFailure(after: timeout))
    } _: {
        do throws(ProbeAbort) {
            try await stages(progress)
            return progress.finish(target, failure: nil)
        } catch {
            var failure = error.failure
            failure.message = redacting(secret ?? "", in: failure.message)
            return progress.finish(target, failure: failure)
        }
    }
}
