import ChildProcess
import Foundation
import TLS

/// An HTTP/2-only TLS server on 127.0.0.1, run by Node.js's built-in `http2` module (no
/// Swift HTTP/2 server is available to the project). Tests using it are skipped where
/// `node` is not installed.
///
/// Built in: `/sessions` (how many connections it has seen), `/goaway` (answers, then closes
/// the session with GOAWAY), `/big` (8 MiB, written with back-pressure), anything else
/// "hello <path>". `routes` is JavaScript run first for each stream, with `stream`, `headers`
/// and `path` in scope; it returns after answering what it handles.
public final class NodeHTTP2Server: Sendable {
    /// `MEDSEARCH_TEST_NODE` picks another node (to check an older release, say).
    public static let nodePath: String? = [ProcessInfo.processInfo.environment["MEDSEARCH_TEST_NODE"], "/usr/bin/node", "/usr/local/bin/node"]
        .compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }

    private static func script(routes: String) -> String {
        """
        const http2 = require('http2');
        const server = http2.createSecureServer({ key: process.env.KEY, cert: process.env.CERT, allowHTTP1: false });
        let sessions = 0;
        server.on('session', () => { sessions += 1; });
        server.on('sessionError', () => {});
        server.on('stream', (stream, headers) => {
          // A client that resets a stream must not take the whole server down.
          stream.on('error', () => {});
          const path = headers[':path'];
          \(routes)
          if (path === '/sessions') { stream.respond({ ':status': 200 }); stream.end(String(sessions)); return; }
          if (path === '/goaway') {
            // What an API server does when it restarts or sheds load: answer, then GOAWAY.
            stream.respond({ ':status': 200 });
            stream.end('bye', () => stream.session.close());
            return;
          }
          if (path === '/big') {
            stream.respond({ ':status': 200 });
            const chunk = Buffer.alloc(65536, 97);
            let sent = 0;
            const total = 8 * 1024 * 1024;
            const pump = () => {
              while (sent < total) {
                sent += chunk.length;
                if (!stream.write(chunk)) { stream.once('drain', pump); return; }
              }
              stream.end();
            };
            pump();
            return;
          }
          stream.respond({ ':status': 200, 'content-type': 'text/plain' });
          stream.end('hello ' + path);
        });
        server.listen(0, '127.0.0.1', () => { console.log(server.address().port); });
        process.stdin.on('end', () => process.exit(0));
        process.stdin.resume();
        """
    }

    let process: Process
    public let port: Int
    let stdin: CloseOnExecPipe
    let stdinIdentity: String?

    public init(certificate: IssuedCertificate, routes: String = "") throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.nodePath ?? "/usr/bin/node")
        process.arguments = ["-e", Self.script(routes: routes)]
        process.environment = ["KEY": certificate.privateKeyPEM, "CERT": certificate.certificatePEM]
        let output = try CloseOnExecPipe()
        stdin = try CloseOnExecPipe()
        process.standardOutput = output.writing
        process.standardInput = stdin.reading
        try process.runSerialized()
        try output.writing.close()
        try stdin.reading.close()
        stdinIdentity = try? FileManager.default.destinationOfSymbolicLink(
            atPath: "/proc/self/fd/\(stdin.writing.fileDescriptor)")
        var line: [UInt8] = []
        // The script prints its port, then a newline, once it listens.
        while let byte = try output.reading.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw NodeDidNotStart(output: String(decoding: line, as: UTF8.self))
        }
        self.port = port
    }

    public var baseURL: String { "https://127.0.0.1:\(port)" }

    /// Ends the server and waits for it, never longer than about twelve seconds.
    ///
    /// Closing stdin ends the script. Once, before the pipes were close-on-exec, a child another
    /// test spawned at the same moment inherited our end of this pipe (moto_server, which lives
    /// for the whole run), so node never saw end-of-file, and `waitUntilExit` (which, off the
    /// thread that launched the process, polls a run loop with no sources) spun a core for
    /// good. Hence the bounded wait, the SIGKILL after it, and the line naming the holders.
    public func stop() {
        try? stdin.writing.close()
        if !process.waitForExit(upTo: .seconds(2)) {
            let holders = Self.processes(holding: stdinIdentity)
            // Worth a line in the log: it names who leaked the pipe.
            print("NodeHTTP2Server: node (pid \(process.processIdentifier)) ignored stdin EOF; pipe also held by \(holders)")
            kill(process.processIdentifier, SIGKILL)
            _ = process.waitForExit(upTo: .seconds(10))
        }
    }

    static func processes(holding target: String?) -> [String] {
        guard let target else { return ["?"] }
        var found: [String] = []
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == target {
                    let cmd = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "?"
                    found.append("\(pid):\(cmd.trimmingCharacters(in: .whitespacesAndNewlines))")
                }
            }
        }
        return found
    }
}

public struct NodeDidNotStart: Error {
    public var output: String
}
