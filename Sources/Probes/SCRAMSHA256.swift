import Foundation
import TLS

/// The client side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), as PostgreSQL's SASL
/// authentication uses it, without channel binding ("n,," GS2 header).
///
/// A value-type state machine: `clientFirstMessage`, then `clientFinalMessage(serverFirst:)`,
/// then `verifyServerFinal(_:)`; pure apart from the nonce, which is injectable for tests.
///
/// Guarantees: the server's nonce must extend ours, the iteration count must be at least 4096
/// (RFC 7677's minimum) and the server's signature must verify, so a server that does not know
/// the password cannot pass itself off as one that does.
/// Caveats: the password is used as UTF-8 bytes without SASLprep, which is exact for ASCII
/// passwords (what the operator generates) and matches PostgreSQL's own fallback for
/// passwords SASLprep rejects. Errors never contain the password.
public struct SCRAMSHA256Client: Sendable {
    /// Why a SCRAM exchange failed.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case malformedServerMessage(String)
        case nonceMismatch
        case iterationCountTooLow(Int)
        case serverError(String)
        case serverSignatureMismatch

        public var description: String {
            switch self {
            case .malformedServerMessage(let detail): "malformed SCRAM server message: \(detail)"
            case .nonceMismatch: "the server's SCRAM nonce does not extend the client's"
            case .iterationCountTooLow(let count): "the server asked for only \(count) PBKDF2 iterations"
            case .serverError(let code): "the server rejected the SCRAM proof: \(code)"
            case .serverSignatureMismatch: "the server's SCRAM signature is wrong: it does not know the password"
            }
        }
    }

    private let username: String
    private let password: [UInt8]
    private let clientNonce: String
    private var expectedServerSignature: [UInt8]?

    /// - Parameters:
    ///   - username: sent in the client-first message; PostgreSQL ignores it (the startup
    ///     message names the user), so pass "" there.
    ///   - clientNonce: printable ASCII without commas; default 24 random bytes in base64.
    public init(username: String, password: String, clientNonce: String? = nil) throws(TLSError) {
        self.username = username
        self.password = Array(password.utf8)
        if let clientNonce {
            self.clientNonce = clientNonce
        } else {
            self.clientNonce = Data(try SecureRandom.bytes(count: 24)).base64EncodedString()
        }
    }

    private var clientFirstBare: String {
        // RFC 5802 saslname: ',' and '=' must be escaped.
        let name = username.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        return "n=\(name),r=\(clientNonce)"
    }

    /// The client-first message, GS2 header included.
    public var clientFirstMessage: String { "n,,\(clientFirstBare)" }

    /// Answers the server-first message with the client-final message carrying the proof.
    public mutating func clientFinalMessage(serverFirst: String) throws(Failure) -> String {
        let attributes = try Self.attributes(serverFirst)
        guard let nonce = attributes["r"], let saltText = attributes["s"], let iterationText = attributes["i"] else {
            throw .malformedServerMessage("r, s or i missing")
        }
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else { throw .nonceMismatch }
        guard let salt = Data(base64Encoded: saltText) else { throw .malformedServerMessage("salt is not base64") }
        guard let iterations = Int(iterationText), iterations > 0 else {
            throw .malformedServerMessage("iteration count is not a positive number")
        }
        guard iterations >= 4096 else { throw .iterationCountTooLow(iterations) }

        let saltedPassword: [UInt8]
        do {
            saltedPassword = try PBKDF2.sha256(password: password, salt: Array(salt), iterations: iterations)
        } catch {
            throw .malformedServerMessage("could not derive the key")
        }
        let clientKey = HMAC.sha256(key: saltedPassword, message: "Client Key")
        let storedKey = SHA256.hash(clientKey)
        let finalWithoutProof = "c=biws,r=\(nonce)"  // biws = base64("n,,")
        let authMessage = "\(clientFirstBare),\(serverFirst),\(finalWithoutProof)"
        let clientSignature = HMAC.sha256(key: storedKey, message: authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = HMAC.sha256(key: saltedPassword, message: "Server Key")
        expectedServerSignature = HMAC.sha256(key: serverKey, message: authMessage)
        return "\(finalWithoutProof),p=\(Data(proof).base64EncodedString())"
    }

    /// Checks the server-final message; throws unless the server proved it knows the password.
    public func verifyServerFinal(_ serverFinal: String) throws(Failure) {
        let attributes = try Self.attributes(serverFinal)
        if let error = attributes["e"] { throw .serverError(error) }
        guard let expectedServerSignature else { throw .malformedServerMessage("server-final before server-first") }
        guard let verifier = attributes["v"], let signature = Data(base64Encoded: verifier) else {
            throw .malformedServerMessage("v missing or not base64")
        }
        // Constant time is not needed here: the signature is public once sent.
        guard Array(signature) == expectedServerSignature else { throw .serverSignatureMismatch }
    }

    private static func attributes(_ message: String) throws(Failure) -> [String: String] {
        var attributes: [String: String] = [:]
        for part in message.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.count >= 2, part.dropFirst().first == "=" else {
                throw .malformedServerMessage("attribute without a value")
            }
            let key = String(part.prefix(1))
            if attributes[key] == nil { attributes[key] = String(part.dropFirst(2)) }
        }
        return attributes
    }
}
