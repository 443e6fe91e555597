@testable import DevAPIServer
import Foundation
import JSON
import Testing

/// Protobuf bytes built by hand from the wire format, as kubectl's typed clients send them.
private func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
    var out = varint(UInt64(number << 3 | 2))
    out += varint(UInt64(payload.count))
    return out + payload
}
private func field(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }
private func varint(_ value: UInt64) -> [UInt8] {
    var value = value, out: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7f)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        out.append(byte)
    } while value != 0
    return out
}
private func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
    [0x6b, 0x38, 0x73, 0x00] + field(1, field(1, apiVersion) + field(2, kind)) + field(2, raw)
}

@Suite("Protobuf request bodies")
struct HTTPProtobufBodyTests {
    @Test func protobuf_namespaceWithLabels_decodesToJSON() throws {
        let meta = field(1, "demo") + field(11, field(1, "team") + field(2, "search"))
        let object = try ProtobufBodies.decode(envelope(apiVersion: "v1", kind: "Namespace", raw: field(1, meta)))
        #expect(object == ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "demo", "labels": ["team": "search"]]])
    }

    @Test func protobuf_secretData_becomesBase64LikeJSONSecrets() throws {
        let raw = field(1, field(1, "db")) + field(2, field(1, "password") + field(2, [0x00, 0xff, 0x41])) + field(3, "Opaque")
        let object = try ProtobufBodies.decode(envelope(apiVersion: "v1", kind: "Secret", raw: raw))
        #expect(object[path: ["data", "password"]] == .string(Data([0x00, 0xff, 0x41]).base64EncodedString()))
        #expect(object["type"] == "Opaque")
    }

    @Test func protobuf_whenKindIsNotUnderstood_refusesWith415() {
        #expect(throws: APIError.self) {
            try ProtobufBodies.decode(envelope(apiVersion: "apps/v1", kind: "Deployment", raw: field(1, field(1, "web"))))
        }
        #expect(throws: APIError.self) { try ProtobufBodies.decode([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff]) }
        #expect(throws: APIError.self) { try ProtobufBodies.decode(Array("{}".utf8)) }
    }

    @Test func protobuf_configMapOverHTTP_isCreated() async throws {
        try await withDevServer { _, port in
            try await HTTPTestConnection.with(port: port) { connection in
                let raw = field(1, field(1, "from-proto")) + field(2, field(1, "a") + field(2, "b"))
                let response = try await connection.request(.POST, "/api/v1/namespaces/default/configmaps",
                                                            headers: [("Content-Type", "application/vnd.kubernetes.protobuf")],
                                                            body: envelope(apiVersion: "v1", kind: "ConfigMap", raw: raw))
                #expect(response.status == 201)
                #expect(response.json[path: ["data", "a"]] == "b")
            }
        }
    }
}
