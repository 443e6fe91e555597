import COpenSSL
import NIOCore

/// Who the client proved to be with its certificate.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The subject commonName (Kubernetes: the user name); empty if the certificate has none.
    public let commonName: String
    /// Every subject organizationName, in order (Kubernetes: the groups).
    public let organizations: [String]

    public init(commonName: String, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }

    public var description: String { "CN=\(commonName) O=\(organizations)" }
}

/// Fired through the pipeline as a user inbound event once the handshake succeeds, before any
/// request bytes, so the HTTP layer can authenticate client-certificate users.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The verified client certificate's identity; nil when the client sent none.
    public let peer: PeerIdentity?
    /// The ALPN protocol agreed on, if the client used ALPN.
    public let negotiatedProtocol: String?
    /// "TLSv1.2" or "TLSv1.3".
    public let protocolVersion: String
}

/// Terminates TLS for one server connection with OpenSSL over a pair of memory BIOs.
///
/// Put it first in a server child pipeline, before the HTTP handlers:
/// `try channel.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: tls))`.
///
/// Guarantees: plaintext written before the handshake finishes is queued and sent after it, in
/// order; large writes are encrypted in bounded slices so ciphertext is not buffered whole;
/// closing sends close_notify before the socket closes; a peer's close_notify is answered and
/// the connection closed; any TLS failure is fired as `errorCaught(TLSError)` and closes the
/// connection. The SSL object is freed in `handlerRemoved`.
/// Caveats: not thread-safe (like every channel handler it lives on its channel's event loop);
/// half-closure is not supported: a close_notify from the peer closes the whole connection.
public final class OpenSSLServerHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let tlsContext: ServerTLSContext
    private let handshakeTimeout: TimeAmount
    private let records: OpenSSLRecordLayer
    private var handshakeTimer: Scheduled<Void>?

    /// The verified client certificate's identity once the handshake is done; nil before that
    /// and when the client sent no certificate.
    public private(set) var peerIdentity: PeerIdentity?
    /// The ALPN protocol agreed on, once the handshake is done.
    public private(set) var negotiatedProtocol: String?
    /// Whether the handshake has completed.
    public var isHandshakeComplete: Bool { records.state == .active }

    /// - Parameters:
    ///   - context: the shared server context.
    ///   - handshakeTimeout: how long a client may take to finish the handshake before the
    ///     connection is dropped, so idle sockets cannot pile up. Default 10 seconds.
    ///   - closeTimeout: how long to wait for our close_notify to be written before closing the
    ///     socket regardless (a peer that stopped reading must not hold it open). Default 5 seconds.
    public init(context: ServerTLSContext, handshakeTimeout: TimeAmount = .seconds(10), closeTimeout: TimeAmount = .seconds(5)) {
        self.tlsContext = context
        self.handshakeTimeout = handshakeTimeout
        self.records = OpenSSLRecordLayer(closeTimeout: closeTimeout)
        records.failureObserver = { [weak self] _ in self?.handshakeTimer?.cancel() }
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        do throws(TLSError) {
            SSL_set_accept_state(try records.open(tlsContext.pointer))
        } catch {
            records.fail(context, error)
            return
        }
        records.beginHandshaking()
        if context.channel.isActive { startHandshakeTimer(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        records.abandon()
        records.free()
    }

    public func channelActive(context: ChannelHandlerContext) {
        if records.state == .handshaking { startHandshakeTimer(context) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        records.connectionClosed()
        context.fireChannelInactive()
    }

    // MARK: inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard records.receive(context, unwrapInboundIn(data)) else { return }
        if records.state == .handshaking { continueHandshake(context) }
        if records.state == .active { records.readPlaintext(context) }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    private func continueHandshake(_ context: ChannelHandlerContext) {
        guard records.advanceHandshake(context, peerRole: "client"), let ssl = records.ssl else { return }
        handshakeTimer?.cancel()
        handshakeTimer = nil
        recordPeer(ssl)
        records.writeCiphertext(context, promise: nil, flush: true)  // e.g. TLS 1.3 session tickets
        context.fireUserInboundEventTriggered(TLSHandshakeCompleted(
            peer: peerIdentity, negotiatedProtocol: negotiatedProtocol,
            protocolVersion: String(cString: SSL_get_version(ssl))))
        records.sendBufferedWrites(context)
    }

    private func recordPeer(_ ssl: OpaquePointer) {
        if let certificate = SSL_get0_peer_certificate(ssl), SSL_get_verify_result(ssl) == X509_V_OK,
            let name = X509_get_subject_name(certificate)
        {
            peerIdentity = PeerIdentity(
                commonName: nameValues(name, nid: NID_commonName).first ?? "",
                organizations: nameValues(name, nid: NID_organizationName))
        }
        negotiatedProtocol = records.selectedProtocol()
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        records.write(context, unwrapOutboundIn(data), promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        records.flush(context)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        records.close(context, mode: mode, promise: promise)
    }

    private func startHandshakeTimer(_ context: ChannelHandlerContext) {
        guard handshakeTimer == nil else { return }
        let loop = context.eventLoop.assumeIsolated()
        handshakeTimer = loop.scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self, self.records.state == .handshaking else { return }
            self.records.fail(context, TLSError(.handshake, "the client did not finish the handshake in time"))
        }
    }
}

@available(*, unavailable)
extension OpenSSLServerHandler: Sendable {}
