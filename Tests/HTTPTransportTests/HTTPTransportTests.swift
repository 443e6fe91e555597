import Foundation
import HTTPTestSupport
import HTTPTransport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Answers by echoing the method, path, body and a chosen header back as headers/body.
@Sendable func echo(_ request: ReceivedRequest) -> ScriptedResponse {
    .full(
        status: 200,
        headers: [("X-Method", request.method), ("X-URI", request.uri), ("X-Probe", request.header("X-Probe") ?? "-")],
        body: request.body)
}

@Suite(.timeLimit(.minutes(2)))
struct HTTPTransportTests {
    @Test(arguments: ["GET", "POST", "PUT", "PATCH", "DELETE"])
    func send_forEachMethod_deliversMethodHeadersAndBody(method: String) async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport()
        let body: [UInt8]? = method == "GET" ? nil : Array("payload for \(method)".utf8)
        let response = try await transport.send(
            HTTPRequest(
                method: method, url: server.baseURL + "/things/a%20b?x=1",
                headers: ["X-Probe": "probe-value", "Content-Type": "text/plain"], body: body))
        #expect(response.status == 200)
        #expect(response.headers["x-method"] == method)
        #expect(response.headers["X-URI"] == "/things/a%20b?x=1")
        #expect(response.headers["x-probe"] == "probe-value")
        #expect(response.body == (body ?? []))
        let received = try #require(server.snapshot.requests.first)
        #expect(received.header("Content-Type") == "text/plain")
        #expect(received.header("Expect") == nil)
        try await server.stop()
    }

    @Test func send_gzippedResponse_isDecodedAndGzipWasOffered_butNotForStreams() async throws {
        // gzip of {"kind":"ConfigMapList","items":[]}
        let gzipped: [UInt8] = [
            0x1f, 0x8b, 0x8, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2, 0x3, 0xab, 0x56, 0xca, 0xce, 0xcc, 0x4b, 0x51, 0xb2, 0x52,
            0x72, 0xce, 0xcf, 0x4b, 0xcb, 0x4c, 0xf7, 0x4d, 0x2c, 0xf0, 0xc9, 0x2c, 0x2e, 0x51, 0xd2, 0x51, 0xca, 0x2c,
            0x49, 0xcd, 0x2d, 0x56, 0xb2, 0x8a, 0x8e, 0xad, 0x5, 0x0, 0xbb, 0xc4, 0x9, 0xf3, 0x23, 0x0, 0x0, 0x0,
        ]
        let server = try await LoopbackHTTPServer { _ in .full(status: 200, headers: [("Content-Encoding", "gzip")], body: gzipped) }
        let response = try await HTTPTransport().send(HTTPRequest(url: server.baseURL + "/list"))
        #expect(response.body == Array(#"{"kind":"ConfigMapList","items":[]}"#.utf8))
        #expect(server.snapshot.requests.first?.header("Accept-Encoding")?.contains("gzip") == true)
        let plain = try await HTTPTransport(configuration: .init(acceptsCompressedResponses: false))
            .send(HTTPRequest(url: server.baseURL + "/list"))
        #expect(plain.body == gzipped)
        #expect(server.snapshot.requests.last?.header("Accept-Encoding") == nil)
        let streamed = try await HTTPTransport().stream(HTTPRequest(url: server.baseURL + "/list"))
        #expect(try await streamed.body.collect(upTo: 1000) == gzipped)
        #expect(server.snapshot.requests.last?.header("Accept-Encoding") == nil)
        try await server.stop()
    }

    @Test func send_whenBodyIsLarge_sendsItWhole() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport()
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let response = try await transport.send(HTTPRequest(method: "PUT", url: server.baseURL + "/big", body: body))
        #expect(response.body == body)
        try await server.stop()
    }

    @Test func send_whenServerAnswersWithErrorStatus_returnsItAsResponse() async throws {
        let server = try await LoopbackHTTPServer { _ in .full(status: 404, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)) }
        let transport = HTTPTransport()
        let response = try await transport.send(HTTPRequest(url: server.baseURL + "/missing"))
        #expect(response.status == 404)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.body == Array("{}".utf8))
        try await server.stop()
    }

    @Test func send_manySequentialRequests_reuseOneConnection() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport()
        for index in 0..<10 {
            let response = try await transport.send(HTTPRequest(url: server.baseURL + "/n/\(index)"))
            #expect(response.headers["X-URI"] == "/n/\(index)")
        }
        #expect(server.snapshot.accepted == 1)
        #expect(server.snapshot.requests.count == 10)
        try await server.stop()
    }

    @Test func send_manyQuickResponses_eachKeepsItsBody() async throws {
        // Small answers can finish on the loop thread before the caller starts waiting;
        // the body must still reach it.
        let server = try await LoopbackHTTPServer { request in .full(status: 200, body: Array(request.uri.utf8)) }
        let transport = HTTPTransport()
        for index in 0..<300 {
            let response = try await transport.send(HTTPRequest(url: server.baseURL + "/q/\(index)"))
            #expect(response.body == Array("/q/\(index)".utf8))
        }
        try await server.stop()
    }

    @Test func send_manyConcurrentRequests_allCompleteOnOneTransport() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport()
        let uris = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try await transport.send(HTTPRequest(url: server.baseURL + "/c/\(index)")).headers["X-URI"]
                }
            }
            var uris: Set<String> = []
            for try await uri in group { uris.insert(uri ?? "") }
            return uris
        }
        #expect(uris == Set((0..<40).map { "/c/\($0)" }))
        try await server.stop()
    }

    @Test func send_whenBodyExceedsLimit_abortsWithResponseTooLarge() async throws {
        let server = try await LoopbackHTTPServer { _ in .streamed(total: 5 * 1024 * 1024, chunkSize: 64 * 1024) }
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: server.baseURL + "/huge", maxResponseBodyBytes: 1024 * 1024))
        }
        #expect(error?.kind == .responseTooLarge)
        let fits = try await transport.send(HTTPRequest(url: server.baseURL + "/huge", maxResponseBodyBytes: 5 * 1024 * 1024))
        #expect(fits.body.count == 5 * 1024 * 1024)
        try await server.stop()
    }

    @Test func send_burstBeyondPerHostLimit_queuesOnTheAllowedConnections() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport(configuration: .init(maxConnectionsPerHost: 3))
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<30 {
                group.addTask { try await transport.send(HTTPRequest(url: server.baseURL + "/b/\(index)")).status }
            }
            for try await status in group { #expect(status == 200) }
        }
        #expect(server.snapshot.requests.count == 30)
        #expect(server.snapshot.accepted <= 3)
        try await server.stop()
    }

    @Test func send_whenServerNeverAnswers_failsWithTimedOut() async throws {
        let server = try await LoopbackHTTPServer { _ in .hang }
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: server.baseURL + "/slow", timeout: .milliseconds(200)))
        }
        #expect(error?.kind == .timedOut)
        #expect(error?.method == "GET")
        try await server.stop()
    }

    @Test func send_whenTaskIsCancelled_abortsTransferAndClosesConnection() async throws {
        let server = try await LoopbackHTTPServer { _ in .hang }
        let transport = HTTPTransport()
        let task = Task { try await transport.send(HTTPRequest(url: server.baseURL + "/hang")) }
        await server.waitUntil { $0.requests.count == 1 }
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        await server.waitUntil { $0.closed == 1 }
        #expect(server.snapshot.closed == 1)
        try await server.stop()
    }

    /// A child process spawned while a request is in flight must not inherit its socket: it
    /// would hold the connection open after curl closes it (the cancellation test above
    /// would then wait for a close that never comes).
    @Test func connectionSockets_areCloseOnExec() async throws {
        let server = try await LoopbackHTTPServer { _ in .hang }
        let transport = HTTPTransport()
        let task = Task { try await transport.send(HTTPRequest(url: server.baseURL + "/hang")) }
        await server.waitUntil { $0.requests.count == 1 }
        let sockets = Self.descriptorsConnected(toPort: server.port)
        #expect(!sockets.isEmpty, "the client's socket to port \(server.port) was not found")
        for descriptor in sockets {
            let info = (try? String(contentsOfFile: "/proc/self/fdinfo/\(descriptor)", encoding: .utf8)) ?? ""
            let flags = info.split(separator: "\n").first { $0.hasPrefix("flags:") }
                .flatMap { Int($0.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0
            #expect(flags & 0o2_000_000 != 0, "descriptor \(descriptor) lacks O_CLOEXEC (flags \(String(flags, radix: 8)))")
        }
        task.cancel()
        _ = await task.result
        try await server.stop()
    }

    /// This process's descriptors for TCP connections whose remote port is `port`.
    static func descriptorsConnected(toPort port: Int) -> [Int] {
        var inodes: Set<String> = []
        for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
            // Read to end-of-file: /proc reports size 0, and a busy table spans many pages.
            let text = FileHandle(forReadingAtPath: table).map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                    remotePort == port
                else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { name in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
            else { return nil }
            return Int(name)
        }
    }

    @Test func send_toClosedPort_failsWithConnectionRefused() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let url = server.baseURL + "/x?token=secret-in-query"
        try await server.stop()
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: url, headers: ["Authorization": "Bearer sekrit"]))
        }
        #expect(error?.kind == .connectionRefused)
        #expect(error?.message.isEmpty == false)
        #expect(error.map { "\($0)" }?.contains("sekrit") == false)
        #expect(error.map { "\($0)" }?.contains("secret-in-query") == false)
    }

    @Test func send_httpsToPlainServer_failsWithTLSFailure() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: "https://127.0.0.1:\(server.port)/", timeout: .seconds(20)))
        }
        #expect(error?.kind == .tlsFailure)
        try await server.stop()
    }

    @Test func send_withHeaderValueContainingNewline_isRejectedBeforeSending() async throws {
        let server = try await LoopbackHTTPServer(respond: echo)
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: server.baseURL, headers: ["X-Bad": "a\r\nInjected: yes"]))
        }
        #expect(error?.kind == .invalidRequest)
        #expect(server.snapshot.requests.isEmpty)
        try await server.stop()
    }

    @Test func stream_chunkedBody_arrivesInOrderAfterTheHead() async throws {
        let pieces = (0..<20).map { Array("piece-\($0);".utf8) }
        let server = try await LoopbackHTTPServer { _ in .chunks(status: 201, headers: [("X-Kind", "chunks")], pieces) }
        let transport = HTTPTransport()
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/watch"))
        #expect(response.status == 201)
        #expect(response.headers["x-kind"] == "chunks")
        var received: [UInt8] = []
        for try await chunk in response.body { received += chunk }
        #expect(received == pieces.flatMap { $0 })
        try await server.stop()
    }

    @Test func stream_headArrivesBeforeAnyBodyIsSent() async throws {
        // The head alone must be enough for stream() to return (a quiet watch sends nothing).
        let server = try await LoopbackHTTPServer { _ in .chunks(status: 200, []) }
        let transport = HTTPTransport()
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/quiet"))
        #expect(response.status == 200)
        var count = 0
        for try await _ in response.body { count += 1 }
        #expect(count == 0)
        try await server.stop()
    }

    @Test func stream_slowConsumerOfFiftyMegabytes_keepsBufferBoundedByPausing() async throws {
        let total = 50 * 1024 * 1024
        let server = try await LoopbackHTTPServer { _ in .streamed(total: total, chunkSize: 64 * 1024) }
        let limit = 256 * 1024
        let transport = HTTPTransport(configuration: .init(streamBufferLimit: limit))
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/firehose"))
        var received = 0
        var chunks = 0
        var largestSeen = 0
        for try await chunk in response.body {
            received += chunk.count
            chunks += 1
            largestSeen = max(largestSeen, transport.bufferedBodyBytes)
            if chunks % 64 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(received == total)
        #expect(transport.pauseCount > 0)
        // One curl write (at most CURL_MAX_WRITE_SIZE, 16 KiB) may land past the limit.
        #expect(transport.peakBufferedBodyBytes <= limit + 16 * 1024)
        #expect(largestSeen <= limit + 16 * 1024)
        #expect(transport.bufferedBodyBytes == 0)
        try await server.stop()
    }

    @Test func stream_whenConsumerStopsReading_serverIsHeldBackByTCP() async throws {
        let total = 50 * 1024 * 1024
        let server = try await LoopbackHTTPServer { _ in .streamed(total: total, chunkSize: 64 * 1024) }
        let limit = 128 * 1024
        let transport = HTTPTransport(configuration: .init(streamBufferLimit: limit))
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/firehose"))
        var iterator = response.body.makeAsyncIterator()
        _ = try await iterator.next()
        // Wait until the transport has paused: from then on nothing more may be buffered.
        while transport.pauseCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let bufferedWhilePaused = transport.bufferedBodyBytes
        #expect(bufferedWhilePaused <= limit + 16 * 1024)
        #expect(server.snapshot.streamedBytes < total)
        response.body.cancel()
        await server.waitUntil { $0.closed == 1 }
        #expect(transport.bufferedBodyBytes == 0)
        try await server.stop()
    }

    @Test func stream_droppedWithUnreadBody_releasesItsBufferedBytes() async throws {
        let total = 100 * 1024
        let server = try await LoopbackHTTPServer { _ in .streamed(total: total, chunkSize: 10 * 1024) }
        let transport = HTTPTransport()
        do {
            let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/unread"))
            #expect(response.status == 200)
            while transport.bufferedBodyBytes < total { try await Task.sleep(for: .milliseconds(5)) }
            #expect(response.body.bufferedBytes == total)
        }
        #expect(transport.bufferedBodyBytes == 0)
        try await server.stop()
    }

    @Test func stream_cancelAfterTheBodyArrived_endsIterationWithCancellation() async throws {
        let total = 100 * 1024
        let server = try await LoopbackHTTPServer { _ in .streamed(total: total, chunkSize: 10 * 1024) }
        let transport = HTTPTransport()
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/done"))
        while transport.bufferedBodyBytes < total { try await Task.sleep(for: .milliseconds(5)) }
        response.body.cancel()
        #expect(transport.bufferedBodyBytes == 0)
        await #expect(throws: CancellationError.self) {
            for try await _ in response.body {}
        }
        try await server.stop()
    }

    @Test func stream_whenIteratingTaskIsCancelled_abortsTheTransfer() async throws {
        let server = try await LoopbackHTTPServer { _ in .streamed(total: 1 << 30, chunkSize: 64 * 1024) }
        let transport = HTTPTransport()
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/endless"))
        let reader = Task {
            var total = 0
            for try await chunk in response.body { total += chunk.count }
            return total
        }
        await server.waitUntil { $0.streamedBytes > 1 << 20 }
        reader.cancel()
        let result = await reader.result
        #expect(throws: CancellationError.self) { try result.get() }
        await server.waitUntil { $0.closed == 1 }
        try await server.stop()
    }

    @Test func manyStreams_someCancelledMidway_allEndAndEveryConnectionCloses() async throws {
        let server = try await LoopbackHTTPServer { request in
            request.uri.hasPrefix("/endless") ? .streamed(total: 1 << 30, chunkSize: 32 * 1024) : .streamed(total: 256 * 1024, chunkSize: 8 * 1024)
        }
        let transport = HTTPTransport(configuration: .init(streamBufferLimit: 64 * 1024))
        let outcomes = await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<30 {
                group.addTask {
                    let endless = index % 3 == 0
                    let response = try await transport.stream(HTTPRequest(url: server.baseURL + (endless ? "/endless/\(index)" : "/finite/\(index)")))
                    var total = 0
                    for try await chunk in response.body {
                        total += chunk.count
                        if endless && total > 512 * 1024 {
                            response.body.cancel()
                        }
                    }
                    return endless ? "ended-early" : "complete:\(total)"
                } 
            }
            var outcomes: [String] = []
            while let next = await group.nextResult() {
                switch next {
                case .success(let outcome): outcomes.append(outcome)
                case .failure(let error): outcomes.append(error is CancellationError ? "cancelled" : "error: \(error)")
                }
            }
            return outcomes
        }
        #expect(outcomes.filter { $0 == "cancelled" }.count == 10)
        #expect(outcomes.filter { $0 == "complete:\(256 * 1024)" }.count == 20)
        await server.waitUntil { $0.closed >= 10 }
        #expect(transport.bufferedBodyBytes == 0)
        try await server.stop()
    }

    @Test func stream_outlivesTheTransportObjectThatOpenedIt() async throws {
        // Far more than the buffer limit, so the transfer is still running (paused) when the
        // transport object goes out of scope.
        let total = 4 * 1024 * 1024
        let server = try await LoopbackHTTPServer { _ in .streamed(total: total, chunkSize: 64 * 1024) }
        let response = try await HTTPTransport(configuration: .init(streamBufferLimit: 16 * 1024))
            .stream(HTTPRequest(url: server.baseURL + "/orphan"))
        var received = 0
        for try await chunk in response.body { received += chunk.count }
        #expect(received == total)
        try await server.stop()
    }

    @Test func stream_whenTransportShutsDown_endsWithTransportShutDown() async throws {
        let server = try await LoopbackHTTPServer { _ in .streamed(total: 1 << 30, chunkSize: 64 * 1024) }
        let transport = HTTPTransport()
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/endless"))
        var iterator = response.body.makeAsyncIterator()
        _ = try await iterator.next()
        transport.shutdown()
        let error = await #expect(throws: HTTPTransportError.self) {
            while try await iterator.next() != nil {}
        }
        #expect(error?.kind == .transportShutDown)
        try await server.stop()
    }

    @Test func observer_isToldMethodStatusAndFailureOfEachTransfer() async throws {
        let server = try await LoopbackHTTPServer { request in
            request.uri == "/missing" ? .full(status: 404) : .full(status: 200)
        }
        let observer = RecordingObserver()
        let transport = HTTPTransport(configuration: .init(observer: observer))
        _ = try await transport.send(HTTPRequest(method: "GET", url: server.baseURL + "/ok"))
        _ = try await transport.send(HTTPRequest(method: "DELETE", url: server.baseURL + "/missing"))
        _ = try? await transport.send(HTTPRequest(url: server.baseURL + "/x", headers: ["Bad": "\n"]))
        let records = observer.records.withLock { $0 }
        #expect(records.map(\.method) == ["GET", "DELETE"])
        #expect(records.map(\.status) == [200, 404])
        #expect(records.allSatisfy { $0.origin == "http://127.0.0.1:\(server.port)" && $0.failure == nil })
        #expect(records.map(\.httpVersion) == ["1.1", "1.1"])
        #expect(records.map(\.newConnections) == [1, 0])
        try await server.stop()
    }

    @Test func send_afterShutdown_failsWithTransportShutDown() async throws {
        let transport = HTTPTransport()
        transport.shutdown()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: "http://127.0.0.1:9/"))
        }
        #expect(error?.kind == .transportShutDown)
    }
}

/// The transport's one retry: idempotent requests that got not a byte of answer before the
/// connection failed (the HTTP/2 GOAWAY race on a real API server; a dropped connection here).
@Suite struct UnansweredRequestRetryTests {
    /// Answers 200 "second try", except that the first request's connection is closed unanswered.
    static func serverDroppingFirstRequest() async throws -> LoopbackHTTPServer {
        let seen = Mutex(0)
        return try await LoopbackHTTPServer { _ in
            let count = seen.withLock { count in
                count += 1
                return count
            }
            return count == 1 ? .closeWithoutAnswer : .full(status: 200, body: Array("second try".utf8))
        }
    }

    @Test(arguments: ["GET", "PUT", "DELETE", "HEAD"])
    func idempotentRequest_droppedBeforeAnyAnswer_isRetriedOnce(method: String) async throws {
        let server = try await Self.serverDroppingFirstRequest()
        let observer = RecordingObserver()
        let transport = HTTPTransport(configuration: .init(observer: observer))
        let response = try await transport.send(HTTPRequest(method: method, url: server.baseURL + "/x", body: method == "PUT" ? [1] : nil))
        #expect(response.status == 200)
        if method != "HEAD" { #expect(String(decoding: response.body, as: UTF8.self) == "second try") }
        #expect(server.snapshot.requestCount == 2)
        #expect(observer.records.withLock { $0 }.count == 1, "one record per request, retry included")
        try await server.stop()
    }

    @Test(arguments: ["POST", "PATCH"])
    func nonIdempotentRequest_droppedBeforeAnyAnswer_failsWithoutRetry(method: String) async throws {
        let server = try await Self.serverDroppingFirstRequest()
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(method: method, url: server.baseURL + "/x", body: [1]))
        }
        #expect(error?.kind == .receiveFailed)
        #expect(server.snapshot.requestCount == 1, "the server may have acted on it; only the caller can decide")
        try await server.stop()
    }

    @Test func idempotentRequest_droppedTwice_failsAfterOneRetry() async throws {
        let server = try await LoopbackHTTPServer { _ in .closeWithoutAnswer }
        let transport = HTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(url: server.baseURL + "/x"))
        }
        #expect(error?.kind == .receiveFailed)
        #expect(server.snapshot.requestCount == 2)
        try await server.stop()
    }

    @Test func stream_droppedBeforeItsHead_isRetriedOnce() async throws {
        let server = try await Self.serverDroppingFirstRequest()
        let transport = HTTPTransport()
        let response = try await transport.stream(HTTPRequest(url: server.baseURL + "/watch"))
        #expect(response.status == 200)
        #expect(try await response.body.collect(upTo: 100) == Array("second try".utf8))
        try await server.stop()
    }
}
