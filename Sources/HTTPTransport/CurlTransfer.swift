import CCurl
import Foundation

/// One libcurl easy handle with everything that must live as long as it: header lists,
/// the error buffer and the sink its callbacks feed.
///
/// Caveats: configured by the submitting task, then owned by the loop thread alone
/// (hence `@unchecked Sendable`: the hand-over goes through the loop's locked inbox).
final class CurlTransfer: @unchecked Sendable {
    let id: UInt64
    let easy: UnsafeMutableRawPointer
    let sink: ResponseSink
    let method: String
    let redactedURL: String
    let origin: String
    let started: ContinuousClock.Instant
    /// 0 for the first try; see `retryingUnanswered()`.
    let attempt: Int
    // Kept to build a retry from.
    private let request: HTTPRequest
    private let tls: TLSConfiguration
    private let connectTimeout: Duration
    private let acceptsCompressedResponses: Bool
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var connectTo: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init(
        id: UInt64, request: HTTPRequest, tls: TLSConfiguration, connectTimeout: Duration,
        acceptsCompressedResponses: Bool, sink: ResponseSink, attempt: Int = 0,
        started: ContinuousClock.Instant = .now
    ) throws(HTTPTransportError) {
        let method = request.method.uppercased()
        let redactedURL = HTTPTransportError.redacted(url: request.url)
        // Thrown before any stored property is set, so no deinit runs on a missing handle.
        guard let easy = curl_easy_init() else {
            throw HTTPTransportError(kind: .other, message: "curl_easy_init failed", method: method, url: redactedURL)
        }
        self.id = id
        self.sink = sink
        self.attempt = attempt
        self.started = started
        self.request = request
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.acceptsCompressedResponses = acceptsCompressedResponses
        self.method = method
        self.redactedURL = redactedURL
        self.origin = CurlTransfer.origin(of: request.url)
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        do {
            try configure(request: request, tls: tls, connectTimeout: connectTimeout)
            if acceptsCompressedResponses {
                // "" lets curl list every encoding it was built with and decode the body.
                try check(ccurl_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""), "accept encoding")
            }
        } catch {
            release()
            throw error
        }
    }

    private var released = false

    /// Frees the curl handle; the loop calls it after removing the handle from the multi.
    func release() {
        guard !released else { return }
        released = true
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
        if let connectTo { curl_slist_free_all(connectTo) }
        errorBuffer.deallocate()
    }

    deinit { release() }

    /// A second try of this request on a fresh handle (same id and sink), or nil when retrying
    /// would not be safe.
    ///
    /// Safe means: the request is idempotent (RFC 9110 §9.2.2), this was the first try, not a
    /// byte of response arrived, and curl reports the connection failing under it. The case
    /// that needs it: an HTTP/2 server's GOAWAY (API servers send them on restart and, with
    /// --goaway-chance, to rebalance) racing new streams, which libcurl fails with "Error in
    /// the HTTP2 framing layer" instead of retrying. Go's HTTP/2 client retries those too.
    /// The retry gets what is left of the request's timeout.
    func retryingUnanswered(after code: CURLcode) -> CurlTransfer? {
        guard attempt == 0, Self.idempotentMethods.contains(method), Self.connectionFailures.contains(code.rawValue),
            !sink.hasReceivedAnything, !sink.wasCancelledByConsumer
        else { return nil }
        var retry = request
        if let timeout = request.timeout {
            let left = timeout - (ContinuousClock.now - started)
            guard left > .milliseconds(1) else { return nil }
            retry.timeout = left
        }
        return try? CurlTransfer(
            id: id, request: retry, tls: tls, connectTimeout: connectTimeout,
            acceptsCompressedResponses: acceptsCompressedResponses, sink: sink, attempt: attempt + 1, started: started)
    }

    private static let idempotentMethods: Set<String> = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]
    private static let connectionFailures: Set<UInt32> = [
        CURLE_HTTP2.rawValue, CURLE_HTTP2_STREAM.rawValue, CURLE_SEND_ERROR.rawValue, CURLE_RECV_ERROR.rawValue,
        CURLE_GOT_NOTHING.rawValue,
    ]

    func failure(for code: CURLcode) -> HTTPTransportError {
        if code == CURLE_WRITE_ERROR && sink.exceededLimit {
            return HTTPTransportError(
                kind: .responseTooLarge, message: "the response body exceeds the limit", curlCode: Int(code.rawValue),
                method: method, url: redactedURL)
        }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail.trimmingTrailingNewline()
        return HTTPTransportError(
            kind: HTTPTransportError.kind(for: code), message: message, curlCode: Int(code.rawValue),
            method: method, url: redactedURL)
    }

    private func invalid(_ message: String) -> HTTPTransportError {
        HTTPTransportError(kind: .invalidRequest, message: message, method: method, url: redactedURL)
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPTransportError) {
        guard code == CURLE_OK else {
            throw HTTPTransportError(
                kind: .invalidRequest, message: "\(what): \(String(cString: curl_easy_strerror(code)))",
                curlCode: Int(code.rawValue), method: method, url: redactedURL)
        }
    }

    private func configure(request: HTTPRequest, tls: TLSConfiguration, connectTimeout: Duration) throws(HTTPTransportError) {
        var url = request.url
        if let serverName = tls.serverNameOverride, url.lowercased().hasPrefix("https://") {
            guard var components = URLComponents(string: url), let realHost = components.host else {
                throw invalid("cannot parse the URL to apply the TLS server name")
            }
            let port = components.port ?? 443
            components.host = serverName
            components.port = port
            guard let rewritten = components.string else { throw invalid("cannot apply the TLS server name") }
            url = rewritten
            let hostForConnect = realHost.contains(":") ? "[\(realHost)]" : realHost
            connectTo = curl_slist_append(nil, "\(serverName):\(port):\(hostForConnect):\(port)")
            try check(ccurl_setopt_slist(easy, CURLOPT_CONNECT_TO, connectTo), "connect-to")
        }
        try check(ccurl_setopt_string(easy, CURLOPT_URL, url), "URL")
        try check(ccurl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"), "protocols")
        try check(ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "nosignal")
        // Sockets no child process can inherit (see the shim).
        try check(ccurl_setopt_cloexec_sockets(easy), "close-on-exec sockets")
        try check(ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "error buffer")
        try check(ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, ccurl_http_version_2tls()), "HTTP version")
        // Waiting for an existing connection that can multiplex beats opening a new one.
        try check(ccurl_setopt_long(easy, CURLOPT_PIPEWAIT, 1), "pipewait")
        try check(ccurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1), "keepalive")
        // A proxy's "200 Connection established" must not pass for the server's response head.
        try check(ccurl_setopt_long(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1), "suppress connect headers")
        try check(ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout.milliseconds), "connect timeout")
        if let timeout = request.timeout {
            try check(ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)), "timeout")
        }

        switch method {
        case "GET": break
        case "HEAD": try check(ccurl_setopt_long(easy, CURLOPT_NOBODY, 1), "HEAD")
        case "POST": break
        default: try check(ccurl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method), "method")
        }
        if method.isEmpty || method.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw invalid("invalid method")
        }
        if let body = request.body {
            try check(ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
            if body.isEmpty {
                try check(ccurl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""), "body")
            } else {
                let code = body.withUnsafeBytes { bytes in
                    ccurl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }
                try check(code, "body")
            }
        }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        for field in request.headers {
            // Checked on bytes: Swift treats "\r\n" as one Character, which would slip past.
            if field.name.isEmpty || field.name.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: ":") || $0 == 0x7F })
                || field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
            {
                if let list { curl_slist_free_all(list) }
                let printableName = String(decoding: field.name.utf8.filter { $0 > 0x20 && $0 < 0x7F }, as: UTF8.self)
                throw invalid("invalid header field \(printableName)")
            }
            // "Name;" is curl's way of sending a header with an empty value.
            list = curl_slist_append(list, field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        // curl would otherwise wait for "100 Continue" before sending larger bodies.
        if request.headers["Expect"] == nil { list = curl_slist_append(list, "Expect:") }
        if request.body != nil && request.headers["Content-Type"] == nil {
            list = curl_slist_append(list, "Content-Type:")
        }
        headerList = list
        try check(ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, list), "headers")

        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(ccurl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback), "write callback")
        try check(ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, context), "write data")
        try check(ccurl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "header callback")
        try check(ccurl_setopt_pointer(easy, CURLOPT_HEADERDATA, context), "header data")

        try configureTLS(tls)
    }

    private func configureTLS(_ tls: TLSConfiguration) throws(HTTPTransportError) {
        if tls.insecureSkipVerify {
            try check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0), "verify peer")
            try check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0), "verify host")
        } else {
            try check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1), "verify peer")
            try check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2), "verify host")
        }
        if let ca = tls.certificateAuthorityPEM {
            try setBlob(CURLOPT_CAINFO_BLOB, ca, "CA")
            // With an explicit CA the system store must not also be trusted.
            try check(ccurl_setopt_string(easy, CURLOPT_CAINFO, nil), "CA file")
            try check(ccurl_setopt_string(easy, CURLOPT_CAPATH, nil), "CA path")
        }
        if let certificate = tls.clientCertificatePEM {
            try setBlob(CURLOPT_SSLCERT_BLOB, certificate, "client certificate")
            try check(ccurl_setopt_string(easy, CURLOPT_SSLCERTTYPE, "PEM"), "client certificate type")
        }
        if let key = tls.clientKeyPEM {
            try setBlob(CURLOPT_SSLKEY_BLOB, key, "client key")
            try check(ccurl_setopt_string(easy, CURLOPT_SSLKEYTYPE, "PEM"), "client key type")
        }
    }

    private func setBlob(_ option: CURLoption, _ bytes: [UInt8], _ what: String) throws(HTTPTransportError) {
        let code = bytes.withUnsafeBytes { buffer in
            // CURL_BLOB_COPY in the shim: curl keeps its own copy.
            ccurl_setopt_blob(easy, option, UnsafeMutableRawPointer(mutating: buffer.baseAddress), buffer.count)
        }
        try check(code, what)
    }

    static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return "unknown" }
        if let port = components.port { return "\(scheme)://\(host):\(port)" }
        return "\(scheme)://\(host)"
    }
}

private let curlWriteCallback: ccurl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    switch transfer.sink.receiveBody(bytes) {
    case .accepted: return length
    case .pause: return ccurl_writefunc_pause()
    // Any count other than `length` makes curl fail the transfer with CURLE_WRITE_ERROR.
    case .abort: return 0
    }
}

private let curlHeaderCallback: ccurl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    transfer.sink.receiveHeaderLine(line)
    return length
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
