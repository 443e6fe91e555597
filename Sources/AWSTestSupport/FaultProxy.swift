import Foundation
import HTTPTransport
import Synchronization

/// An HTTP proxy in front of moto that injects the failures real AWS produces: throttling,
/// 5xx pages, latency, and resources that stay `creating` for a while, so retries and
/// asynchronous provisioning paths run for real.
///
/// Faults are matched by operation: the Query `Action`, the JSON `X-Amz-Target` operation,
/// or "S3:<METHOD>" for REST calls. Each fault applies to the next `count` matching requests.
public final class FaultProxy: Sendable {
    /// One kind of injected failure.
    public enum Fault: Sendable {
        /// 400 with a Query-style `<ErrorResponse>` carrying `code` (e.g. "Throttling").
        case queryError(code: String, status: Int)
        /// A JSON-protocol error with `__type`.
        case jsonError(type: String, status: Int)
        /// An HTML page with this status, as a load balancer would send.
        case htmlError(status: Int)
        /// Forwards after waiting.
        case latency(Duration)
        /// Forwards, then rewrites every RDS/ElastiCache status in the answer to `status`.
        case reportStatus(String)
    }

    private struct Rule {
        var operation: String
        var remaining: Int
        var fault: Fault
    }

    private let rules = Mutex<[Rule]>([])
    private let seen = Mutex<[String]>([])
    private let server: LoopbackServer

    /// Where clients send requests instead of moto.
    public var baseURL: String { server.baseURL }
    /// Operations of every request received, in order.
    public var operations: [String] { seen.withLock { $0 } }

    private init(server: LoopbackServer) { self.server = server }

    /// Starts a proxy on 127.0.0.1 forwarding to `upstream` through `transport`.
    public static func start(upstream: String, transport: HTTPTransport) async throws -> FaultProxy {
        let box = ProxyBox()
        let server = try await LoopbackServer.start { request in
            guard let proxy = box.proxy.withLock({ $0 }) else { return ScriptedResponse(status: 503) }
            return await proxy.handle(request, upstream: upstream, transport: transport)
        }
        let proxy = FaultProxy(server: server)
        box.proxy.withLock { $0 = proxy }
        return proxy
    }

    /// Stops the proxy's listener.
    public func stop() async { await server.stop() }

    /// Applies `fault` to the next `count` requests for `operation`.
    public func inject(_ fault: Fault, on operation: String, count: Int) {
        rules.withLock { $0.append(Rule(operation: operation, remaining: count, fault: fault)) }
    }

    /// How many requests for `operation` arrived.
    public func count(of operation: String) -> Int { operations.filter { $0 == operation }.count }

    /// The operation name a request is matched by (see the type's summary).
    public static func operation(of request: ReceivedRequest) -> String {
        if let target = request.header("X-Amz-Target"), let dot = target.lastIndex(of: ".") {
            return String(target[target.index(after: dot)...])
        }
        for pair in request.bodyText.split(separator: "&") where pair.hasPrefix("Action=") {
            return String(pair.dropFirst("Action=".count))
        }
        return "S3:\(request.method)"
    }

    private func takeFault(for operation: String) -> Fault? {
        rules.withLock { rules in
            guard let index = rules.firstIndex(where: { $0.operation == operation && $0.remaining > 0 }) else { return nil }
            rules[index].remaining -= 1
            return rules[index].fault
        }
    }

    private func handle(_ request: ReceivedRequest, upstream: String, transport: HTTPTransport) async -> ScriptedResponse {
        let operation = Self.operation(of: request)
        seen.withLock { $0.append(operation) }
        switch takeFault(for: operation) {
        case .queryError(let code, let status):
            return ScriptedResponse(
                status: status, headers: [(name: "Content-Type", value: "text/xml")],
                body: """
                    <ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>\(code)</Code>\
                    <Message>Injected by the fault proxy</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>
                    """)
        case .jsonError(let type, let status):
            return ScriptedResponse(
                status: status, headers: [(name: "Content-Type", value: "application/x-amz-json-1.1")],
                body: #"{"__type":"\#(type)","message":"Injected by the fault proxy"}"#)
        case .htmlError(let status):
            return ScriptedResponse(
                status: status, headers: [(name: "Content-Type", value: "text/html")],
                body: "<html><body><h1>\(status) Service Unavailable</h1></body></html>")
        case .latency(let delay):
            try? await Task.sleep(for: delay)
            return await forward(request, upstream: upstream, transport: transport)
        case .reportStatus(let status):
            var response = await forward(request, upstream: upstream, transport: transport)
            var text = String(decoding: response.body, as: UTF8.self)
            for element in ["DBInstanceStatus", "Status"] {
                text = text.replacingOccurrences(
                    of: "<\(element)>available</\(element)>", with: "<\(element)>\(status)</\(element)>")
            }
            response.body = Array(text.utf8)
            return response
        case nil:
            return await forward(request, upstream: upstream, transport: transport)
        }
    }

    private func forward(_ request: ReceivedRequest, upstream: String, transport: HTTPTransport) async -> ScriptedResponse {
        var headers = HTTPHeaders()
        let hopByHop: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "expect"]
        for header in request.headers where !hopByHop.contains(header.name.lowercased()) {
            headers.add(name: header.name, value: header.value)
        }
        let outbound = HTTPRequest(
            method: request.method, url: upstream + request.uri, headers: headers,
            body: request.method == "GET" || request.method == "HEAD" ? nil : request.body, timeout: .seconds(30))
        do {
            let response = try await transport.send(outbound)
            let passed = response.headers.filter { !hopByHop.contains($0.name.lowercased()) }
            return ScriptedResponse(
                status: response.status, headers: passed.map { (name: $0.name, value: $0.value) }, bytes: response.body)
        } catch {
            return ScriptedResponse(status: 502, body: "fault proxy could not reach moto: \(error)")
        }
    }
}

private final class ProxyBox: Sendable {
    let proxy = Mutex<FaultProxy?>(nil)
}
