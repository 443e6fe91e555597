import Foundation
import JSON

/// Decodes the Kubernetes protobuf request bodies that kubectl's typed clients send for its
/// imperative generators (`kubectl create namespace|serviceaccount|configmap|secret`) into JSON.
///
/// Guarantees: only the envelope (`k8s\0` + runtime.Unknown) and the fields of Namespace,
/// ServiceAccount, ConfigMap and Secret that those generators set are read; anything else is refused with
/// 415, so an unsupported protobuf body is never half-understood.
enum ProtobufBodies {
    static let contentType = "application/vnd.kubernetes.protobuf"

    static func decode(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { throw unsupported("missing the k8s protobuf envelope") }
        var envelope = ProtobufReader(bytes[4...])
        var apiVersion = "", kind = ""
        var raw: ArraySlice<UInt8> = []
        while let (field, value) = try envelope.next() {
            switch (field, value) {
            case (1, .bytes(let typeMeta)):
                var reader = ProtobufReader(typeMeta)
                while let (f, v) = try reader.next() {
                    if f == 1, case .bytes(let s) = v { apiVersion = String(decoding: s, as: UTF8.self) }
                    if f == 2, case .bytes(let s) = v { kind = String(decoding: s, as: UTF8.self) }
                }
            case (2, .bytes(let body)): raw = body
            default: continue
            }
        }
        var object: JSONValue = ["apiVersion": .string(apiVersion), "kind": .string(kind)]
        var reader = ProtobufReader(raw)
        switch (apiVersion, kind) {
        case ("v1", "Namespace"), ("v1", "ServiceAccount"):
            while let (field, value) = try reader.next() {
                if field == 1, case .bytes(let meta) = value { object["metadata"] = try objectMeta(meta) }
            }
        case ("v1", "ConfigMap"):
            var data: [String: JSONValue] = [:], binary: [String: JSONValue] = [:]
            while let (field, value) = try reader.next() {
                guard case .bytes(let payload) = value else {
                    if field == 4, case .varint(let flag) = value { object["immutable"] = .bool(flag != 0) }
                    continue
                }
                switch field {
                case 1: object["metadata"] = try objectMeta(payload)
                case 2: let (k, v) = try mapEntry(payload); data[k] = .string(String(decoding: v, as: UTF8.self))
                case 3: let (k, v) = try mapEntry(payload); binary[k] = .string(Data(v).base64EncodedString())
                default: continue
                }
            }
            if !data.isEmpty { object["data"] = .object(data) }
            if !binary.isEmpty { object["binaryData"] = .object(binary) }
        case ("v1", "Secret"):
            var data: [String: JSONValue] = [:], stringData: [String: JSONValue] = [:]
            while let (field, value) = try reader.next() {
                guard case .bytes(let payload) = value else {
                    if field == 5, case .varint(let flag) = value { object["immutable"] = .bool(flag != 0) }
                    continue
                }
                switch field {
                case 1: object["metadata"] = try objectMeta(payload)
                // Secret data travels as raw bytes in protobuf and as base64 in JSON.
                case 2: let (k, v) = try mapEntry(payload); data[k] = .string(Data(v).base64EncodedString())
                case 3: object["type"] = .string(String(decoding: payload, as: UTF8.self))
                case 4: let (k, v) = try mapEntry(payload); stringData[k] = .string(String(decoding: v, as: UTF8.self))
                default: continue
                }
            }
            if !data.isEmpty { object["data"] = .object(data) }
            if !stringData.isEmpty { object["stringData"] = .object(stringData) }
        default:
            throw unsupported("protobuf bodies are only understood for v1 Namespace, ServiceAccount, ConfigMap and Secret, not \(apiVersion) \(kind)")
        }
        return object
    }

    private static func objectMeta(_ bytes: ArraySlice<UInt8>) throws(APIError) -> JSONValue {
        var meta = JSONValue.emptyObject
        var labels: [String: JSONValue] = [:], annotations: [String: JSONValue] = [:]
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            guard case .bytes(let payload) = value else { continue }
            let text = String(decoding: payload, as: UTF8.self)
            switch field {
            case 1: meta["name"] = .string(text)
            case 2: meta["generateName"] = .string(text)
            case 3: meta["namespace"] = .string(text)
            case 11: let (k, v) = try mapEntry(payload); labels[k] = .string(String(decoding: v, as: UTF8.self))
            case 12: let (k, v) = try mapEntry(payload); annotations[k] = .string(String(decoding: v, as: UTF8.self))
            default: continue
            }
        }
        if !labels.isEmpty { meta["labels"] = .object(labels) }
        if !annotations.isEmpty { meta["annotations"] = .object(annotations) }
        return meta
    }

    private static func mapEntry(_ bytes: ArraySlice<UInt8>) throws(APIError) -> (String, ArraySlice<UInt8>) {
        var reader = ProtobufReader(bytes)
        var key = "", value: ArraySlice<UInt8> = []
        while let (field, item) = try reader.next() {
            if field == 1, case .bytes(let k) = item { key = String(decoding: k, as: UTF8.self) }
            if field == 2, case .bytes(let v) = item { value = v }
        }
        return (key, value)
    }

    static func unsupported(_ why: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (\(why))")
    }
}

/// Reads protobuf wire format fields: varints and length-delimited payloads (all Kubernetes needs here).
struct ProtobufReader {
    enum Value { case varint(UInt64), bytes(ArraySlice<UInt8>) }
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func next() throws(APIError) -> (Int, Value)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count) else { throw ProtobufBodies.unsupported("truncated protobuf field") }
            let payload = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (field, .bytes(payload))
        case 1: try skip(8); return try next()
        case 5: try skip(4); return try next()
        default: throw ProtobufBodies.unsupported("unsupported protobuf wire type")
        }
    }

    private mutating func skip(_ count: Int) throws(APIError) {
        guard bytes.count >= count else { throw ProtobufBodies.unsupported("truncated protobuf field") }
        bytes = bytes.dropFirst(count)
    }

    private mutating func varint() throws(APIError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { break }
        }
        throw ProtobufBodies.unsupported("malformed protobuf varint")
    }
}
