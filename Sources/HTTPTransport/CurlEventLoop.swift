import CCurl
import Foundation
import Synchronization

/// One thread driving one libcurl multi handle: every transfer of a transport runs here,
/// so connections are pooled and HTTP/2 streams multiplexed across requests.
///
/// Guarantees: the multi handle and every added easy handle are touched only on the loop
/// thread; other threads talk to it through the locked inbox plus `curl_multi_wakeup`,
/// which is the one multi call libcurl allows from any thread.
final class CurlEventLoop: @unchecked Sendable {
    enum Command {
        case add(CurlTransfer)
        case cancel(UInt64)
        case resume(UInt64)
    }

    struct Inbox {
        var commands: [Command] = []
        var shuttingDown = false
        /// Set once the multi handle is gone; wakeups must not touch it any more.
        var closed = false
    }

    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    private let inbox = Mutex(Inbox())
    private let multi: UnsafeMutableRawPointer
    private let observer: (any HTTPTransportObserver)?
    // Loop-thread state.
    private var active: [UInt64: CurlTransfer] = [:]
    private var handles: [UnsafeMutableRawPointer: UInt64] = [:]

    init(maxConnections: Int, maxConnectionsPerHost: Int, observer: (any HTTPTransportObserver)?) {
        CurlEventLoop.globalInit
        multi = curl_multi_init()
        self.observer = observer
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
    }

    func start(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Hands a configured transfer to the loop; false once the loop is shutting down.
    func submit(_ transfer: CurlTransfer) -> Bool {
        enqueue(.add(transfer))
    }

    func cancel(_ id: UInt64) { _ = enqueue(.cancel(id)) }

    func resume(_ id: UInt64) { _ = enqueue(.resume(id)) }

    func shutdown() {
        inbox.withLock { inbox in
            guard !inbox.closed else { return }
            inbox.shuttingDown = true
            _ = curl_multi_wakeup(multi)
        }
    }

    private func enqueue(_ command: Command) -> Bool {
        inbox.withLock { inbox in
            guard !inbox.shuttingDown else { return false }
            inbox.commands.append(command)
            _ = curl_multi_wakeup(multi)
            return true
        }
    }

    private func run() {
        while true {
            let (commands, stopping) = inbox.withLock { inbox in
                let commands = inbox.commands
                inbox.commands = []
                return (commands, inbox.shuttingDown)
            }
            for command in commands { handle(command) }
            if stopping { break }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectFinished()
            // Long enough to sleep when idle; curl shortens it for its own timers, and
            // wakeups end it at once.
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        let leftovers = inbox.withLock { inbox in
            inbox.closed = true
            let commands = inbox.commands
            inbox.commands = []
            return commands
        }
        for case .add(let transfer) in leftovers { active[transfer.id] = transfer }
        for transfer in active.values {
            curl_multi_remove_handle(multi, transfer.easy)
            let error = HTTPTransportError(
                kind: .transportShutDown, message: "the HTTP transport was shut down",
                method: transfer.method, url: transfer.redactedURL)
            transfer.sink.finish(failure: error)
            transfer.release()
        }
        active = [:]
        handles = [:]
        curl_multi_cleanup(multi)
    }

    private func handle(_ command: Command) {
        switch command {
        case .add(let transfer):
            let code = curl_multi_add_handle(multi, transfer.easy)
            guard code == CURLM_OK else {
                let error = HTTPTransportError(
                    kind: .other, message: String(cString: curl_multi_strerror(code)),
                    method: transfer.method, url: transfer.redactedURL)
                transfer.sink.finish(failure: error)
                transfer.release()
                return
            }
            active[transfer.id] = transfer
            handles[transfer.easy] = transfer.id
        case .cancel(let id):
            guard let transfer = active.removeValue(forKey: id) else { return }
            handles.removeValue(forKey: transfer.easy)
            // Removing an unfinished transfer tells the server to stop: over HTTP/1.1 curl
            // closes the connection, over HTTP/2 it resets just this stream.
            curl_multi_remove_handle(multi, transfer.easy)
            // Reported before the waiter resumes, so an observer is never behind its caller.
            report(transfer, status: nil, failure: nil, cancelled: true)
            transfer.sink.finish(failure: CancellationError())
            transfer.release()
        case .resume(let id):
            guard let transfer = active[id] else { return }
            transfer.sink.markResumed()
            // May call the write callback right here, which may pause again.
            _ = curl_easy_pause(transfer.easy, ccurl_pause_cont())
        }
    }

    /// Puts a retry in its predecessor's place (same id, so cancelling still finds it).
    private func add(_ retry: CurlTransfer) -> Bool {
        guard curl_multi_add_handle(multi, retry.easy) == CURLM_OK else {
            retry.release()
            return false
        }
        active[retry.id] = retry
        handles[retry.easy] = retry.id
        return true
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            guard let id = handles.removeValue(forKey: easy), let transfer = active.removeValue(forKey: id) else {
                continue
            }
            curl_multi_remove_handle(multi, easy)
            var status = 0
            _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            if transfer.sink.wasCancelledByConsumer {
                // The consumer's cancel raced curl ending the transfer; it stays a cancellation.
                report(transfer, status: status == 0 ? nil : status, failure: nil, cancelled: true)
                transfer.sink.finish(failure: CancellationError())
            } else if result == CURLE_OK {
                report(transfer, status: status, failure: nil, cancelled: false)
                transfer.sink.finish(failure: nil)
            } else if let retry = transfer.retryingUnanswered(after: result), add(retry) {
                transfer.release()
                continue
            } else {
                let error = transfer.failure(for: result)
                report(transfer, status: status == 0 ? nil : status, failure: error.kind, cancelled: false)
                transfer.sink.finish(failure: error)
            }
            transfer.release()
        }
    }

    private func report(_ transfer: CurlTransfer, status: Int?, failure: HTTPTransportError.Kind?, cancelled: Bool) {
        guard let observer else { return }
        var version = 0
        _ = ccurl_getinfo_long(transfer.easy, CURLINFO_HTTP_VERSION, &version)
        var connections = 0
        _ = ccurl_getinfo_long(transfer.easy, CURLINFO_NUM_CONNECTS, &connections)
        let httpVersion: String? =
            switch version {
            case CURL_HTTP_VERSION_1_0: "1.0"
            case CURL_HTTP_VERSION_1_1: "1.1"
            case CURL_HTTP_VERSION_2_0: "2"
            case CURL_HTTP_VERSION_3: "3"
            default: nil
            }
        observer.transferFinished(
            HTTPTransferRecord(
                method: transfer.method, origin: transfer.origin, status: status, failure: failure,
                cancelled: cancelled, duration: ContinuousClock.now - transfer.started, httpVersion: httpVersion,
                newConnections: connections))
    }
}
