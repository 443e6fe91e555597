import DevAPIServer
import JSON
import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as the tests see it.
struct HTTPTestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1, driven request by request.
final class HTTPTestConnection {
    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    private var pendingBody: [UInt8] = []

    private init(inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Connects, runs `body` with the connection, then closes it.
    static func with<T>(port: Int, _ body: (HTTPTestConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Forward 1xx heads so Expect: 100-continue behaviour is observable.
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(
                        HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)))
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let connection = HTTPTestConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(connection)
        }
    }

    func request(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> HTTPTestResponse {
        let head = try await send(method, path, headers: headers, body: body)
        var collected: [UInt8] = []
        while let part = try await inbound.next() {
            switch part {
            case .body(let buffer): collected.append(contentsOf: buffer.readableBytesView)
            case .end: return HTTPTestResponse(status: Int(head.status.code), headers: head.headers, body: collected)
            case .head: throw HTTPTestError(message: "a second response head arrived")
            }
        }
        // The server closed without finishing the body (e.g. after 413).
        return HTTPTestResponse(status: Int(head.status.code), headers: head.headers, body: collected)
    }

    func request(_ method: HTTPMethod, _ path: String, json: JSONValue, contentType: String = "application/json") async throws -> HTTPTestResponse {
        try await request(method, path, headers: [("Content-Type", contentType)], body: json.serializedBytes())
    }

    /// Sends a request and returns its head, leaving the body to `nextLine()` (for watches).
    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> HTTPResponseHead {
        var requestHeaders = HTTPHeaders([("Host", "127.0.0.1")] + headers)
        if let body { requestHeaders.replaceOrAdd(name: "Content-Length", value: String(body.count)) }
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: requestHeaders)))
        if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        try await outbound.write(.end(nil))
        pendingBody = []
        while let part = try await inbound.next() {
            if case .head(let head) = part { return head }
        }
        throw HTTPTestError(message: "the connection closed before a response head")
    }

    /// The next response head (e.g. the final one after a `100 Continue`), skipping body parts.
    func nextHead() async throws -> HTTPResponseHead? {
        while let part = try await inbound.next() {
            if case .head(let head) = part { return head }
        }
        return nil
    }

    /// Sends only a request head (no body, no end) and returns the first response head.
    func sendHeadOnly(_ method: HTTPMethod, _ path: String, headers: [(String, String)]) async throws -> HTTPResponseHead {
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: HTTPHeaders([("Host", "127.0.0.1")] + headers))))
        guard let head = try await nextHead() else { throw HTTPTestError(message: "the connection closed before a response head") }
        return head
    }

    /// The next newline-terminated line of a streamed body; nil once the response ends.
    func nextLine() async throws -> String? {
        while true {
            if let newline = pendingBody.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pendingBody[..<newline], as: UTF8.self)
                pendingBody.removeSubrange(...newline)
                return line
            }
            guard let part = try await inbound.next() else { return nil }
            switch part {
            case .body(let buffer): pendingBody.append(contentsOf: buffer.readableBytesView)
            case .end, .head: return nil
            }
        }
    }

    /// The next watch event line, parsed.
    func nextEvent() async throws -> JSONValue? {
        guard let line = try await nextLine() else { return nil }
        return try JSONValue.parse(line)
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Starts an in-process dev server on a free loopback port, runs `body`, and shuts it down.
func withDevServer<T>(
    _ configure: (inout DevAPIServerConfiguration) -> Void = { _ in },
    _ body: (DevAPIServer, Int) async throws -> T
) async throws -> T {
    var configuration = DevAPIServerConfiguration()
    configuration.port = 0
    configuration.threads = 1
    configuration.simulateWorkloads = false
    configure(&configuration)
    let server = DevAPIServer(configuration: configuration)
    let endpoint = try await server.start()
    do {
        let result = try await body(server, endpoint.port)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

func configMap(_ name: String, namespace: String = "default", data: [String: String] = ["k": "v"]) -> JSONValue {
    [
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": ["name": .string(name), "namespace": .string(namespace)],
        "data": .object(data.mapValues { .string($0) }),
    ]
}

let widgetCRD: JSONValue = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "widgets.example.com"],
    "spec": [
        "group": "example.com", "scope": "Namespaced",
        "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList", "shortNames": ["wd"]],
        "versions": [[
            "name": "v1", "served": true, "storage": true,
            "subresources": ["status": .emptyObject],
            "additionalPrinterColumns": [
                ["name": "Size", "type": "integer", "jsonPath": ".spec.size"],
                ["name": "Ready", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Ready")].status"#],
            ],
            "schema": ["openAPIV3Schema": [
                "type": "object",
                "properties": [
                    "spec": ["type": "object", "description": "Desired widget.", "properties": [
                        "size": ["type": "integer", "minimum": 1, "description": "How big."],
                        "color": ["type": "string", "enum": ["red", "blue"]],
                    ]],
                    "status": ["type": "object", "properties": [
                        "conditions": ["type": "array", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                    ]],
                ],
            ]],
        ]],
    ],
]
