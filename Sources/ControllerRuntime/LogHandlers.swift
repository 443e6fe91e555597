import Foundation
import JSON
import Logging
import Synchronization

/// A swift-log handler writing one line per entry, as JSON (for collectors) or for a terminal.
///
/// JSON lines look like controller-runtime's zap output: `ts`, `level`, `logger`, `msg`,
/// then the metadata (`controller`, `object`, `reconcileID`, `result`, ...) as top-level keys.
public struct RuntimeLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let sink: LogSink

    public init(label: String, format: LogFormat, level: Logger.Level, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    /// Installs the handler process-wide; call once at start-up.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in RuntimeLogHandler(label: label, format: format, level: level) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        sink.write(render(level: event.level, message: "\(event.message)", metadata: merged, date: Date()))
    }

    func render(level: Logger.Level, message: String, metadata: Logger.Metadata, date: Date) -> String {
        switch format {
        case .json:
            var line: [String: JSONValue] = ["ts": .string(KubernetesTime.micro(date)), "level": .string(level.rawValue), "logger": .string(label), "msg": .string(message)]
            for (key, value) in metadata where line[key] == nil { line[key] = Self.json(value) }
            return JSONValue.object(line).serialized()
        case .console:
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "\(KubernetesTime.micro(date)) \(level.rawValue.uppercased()) \(label): \(message)" + (fields.isEmpty ? "" : " " + fields)
        }
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(d.mapValues(json))
        }
    }
}

/// Where log lines go; standard error by default, an in-memory buffer in tests.
public final class LogSink: Sendable {
    private let lines = Mutex<[String]>([])
    private let toStandardError: Bool

    public static let standardError = LogSink(toStandardError: true)

    /// A sink that keeps lines in memory.
    public static func memory() -> LogSink { LogSink(toStandardError: false) }

    private init(toStandardError: Bool) { self.toStandardError = toStandardError }

    public var recorded: [String] { lines.withLock { $0 } }

    func write(_ line: String) {
        if toStandardError {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            lines.withLock { $0.append(line) }
        }
    }
}
