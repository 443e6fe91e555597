import NIOCore

/// PostgreSQL frontend/backend protocol v3 messages the probe needs (see the PostgreSQL docs,
/// "Frontend/Backend Protocol" → "Message Formats").
enum PostgreSQLWire {
    /// The SSLRequest code: 1234 in the high 16 bits, 5679 in the low.
    static let sslRequestCode: Int32 = 80_877_103
    static let protocolVersion3: Int32 = 196_608

    static func sslRequest() -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(sslRequestCode)
        return Array(buffer.readableBytesView)
    }

    static func startup(parameters: [(String, String)]) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(protocolVersion3)
        for (name, value) in parameters {
            writeCString(name, to: &body)
            writeCString(value, to: &body)
        }
        body.writeInteger(UInt8(0))
        var message = ByteBuffer()
        message.writeInteger(Int32(4 + body.readableBytes))
        message.writeBuffer(&body)
        return Array(message.readableBytesView)
    }

    /// A typed frontend message: type byte, Int32 length counting itself, body.
    static func message(_ type: Character, body build: (inout ByteBuffer) -> Void = { _ in }) -> [UInt8] {
        var body = ByteBuffer()
        build(&body)
        var message = ByteBuffer()
        message.writeInteger(type.asciiValue!)
        message.writeInteger(Int32(4 + body.readableBytes))
        message.writeBuffer(&body)
        return Array(message.readableBytesView)
    }

    static func password(_ text: String) -> [UInt8] {
        message("p") { writeCString(text, to: &$0) }
    }

    static func saslInitialResponse(mechanism: String, data: String) -> [UInt8] {
        message("p") { body in
            writeCString(mechanism, to: &body)
            body.writeInteger(Int32(data.utf8.count))
            body.writeString(data)
        }
    }

    static func saslResponse(_ data: String) -> [UInt8] {
        message("p") { $0.writeString(data) }
    }

    static func query(_ sql: String) -> [UInt8] {
        message("Q") { writeCString(sql, to: &$0) }
    }

    static func terminate() -> [UInt8] { message("X") }

    static func writeCString(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeString(text)
        buffer.writeInteger(UInt8(0))
    }

    static func readCString(_ buffer: inout ByteBuffer) -> String? {
        guard let end = buffer.readableBytesView.firstIndex(of: 0) else { return nil }
        let text = buffer.readString(length: end - buffer.readerIndex)
        buffer.moveReaderIndex(forwardBy: 1)
        return text
    }
}

/// A backend message: its type byte and body.
struct PostgreSQLBackendMessage {
    var type: UInt8
    var body: ByteBuffer

    var typeCharacter: Character { Character(Unicode.Scalar(type)) }
}

/// The fields of an ErrorResponse or NoticeResponse that the probe reports.
struct PostgreSQLErrorFields: Hashable {
    /// Non-localized severity (V) when the server sends it (9.6+), else the localized S.
    var severity: String
    /// SQLSTATE (C), e.g. "28P01".
    var code: String
    /// Primary message (M).
    var message: String

    init(_ body: ByteBuffer) {
        var body = body
        var fields: [UInt8: String] = [:]
        while let type = body.readInteger(as: UInt8.self), type != 0 {
            guard let value = PostgreSQLWire.readCString(&body) else { break }
            fields[type] = value
        }
        severity = fields[UInt8(ascii: "V")] ?? fields[UInt8(ascii: "S")] ?? "ERROR"
        code = fields[UInt8(ascii: "C")] ?? "XX000"
        message = fields[UInt8(ascii: "M")] ?? "no message"
    }
}

extension ProbeByteReader {
    /// Reads one backend message: type byte, Int32 length counting itself, body.
    mutating func readPostgreSQLMessage(stage: ProbeStage) async throws(ProbeAbort) -> PostgreSQLBackendMessage {
        var header = try await readBytes(5, stage: stage)
        let type = header.readInteger(as: UInt8.self)!
        let length = Int(header.readInteger(as: Int32.self)!)
        guard length >= 4 else {
            throw ProbeAbort(stage, ProbeFailure.Reason.protocolViolation, "the server sent a message with length \(length)")
        }
        let body = try await readBytes(length - 4, stage: stage)
        return PostgreSQLBackendMessage(type: type, body: body)
    }
}
