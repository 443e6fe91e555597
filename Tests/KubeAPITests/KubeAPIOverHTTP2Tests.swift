import HTTPTestSupport
import HTTPTransport
import JSON
import KubeAPI
import KubeConfig
import Synchronization
import TLS
import Testing

/// EKS's API server speaks HTTP/2, where a watch is one stream among many on a connection and
/// its body arrives in DATA frames rather than chunks. The dev API server speaks HTTP/1.1
/// only, so this drives the client against Node's HTTP/2 server playing a small API server.
@Suite(.enabled(if: NodeHTTP2Server.nodePath != nil), .timeLimit(.minutes(2)))
struct KubeAPIOverHTTP2Tests {
    /// A ConfigMap list at resourceVersion 10, and a watch that sends ADDED, MODIFIED and a
    /// BOOKMARK in 7-byte writes, so events straddle DATA frames.
    static let routes = """
        if (path.startsWith('/api/v1/namespaces/default/configmaps')) {
          const query = new URL(path, 'https://h').searchParams;
          const configMap = (rv, value) => ({ apiVersion: 'v1', kind: 'ConfigMap',
            metadata: { name: 'settings', namespace: 'default', resourceVersion: rv }, data: { mode: value } });
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          if (query.get('watch') !== 'true') {
            stream.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '10' },
              items: [configMap('9', 'a'), { ...configMap('10', 'b'), metadata: { name: 'other', namespace: 'default', resourceVersion: '10' } }] }));
            return;
          }
          const text = [
            { type: 'ADDED', object: configMap('11', 'c') },
            { type: 'MODIFIED', object: configMap('12', 'd') },
            { type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: '13' } } },
          ].map(e => JSON.stringify(e) + '\\n').join('');
          let offset = 0;
          const step = () => {
            if (offset >= text.length) { stream.end(); return; }
            stream.write(text.slice(offset, offset + 7));
            offset += 7;
            setImmediate(step);
          };
          step();
          return;
        }
        """

    @Test func listAndWatch_overHTTP2_decodeAndShareOneConnection() async throws {
        let authority = try CertificateAuthority.generate(commonName: "h2-api-ca")
        let certificate = try authority.issueServerCertificate(commonName: "api", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let server = try NodeHTTP2Server(certificate: certificate, routes: Self.routes)
        defer { server.stop() }
        let observer = RecordingObserver()
        let client = KubernetesAPIClient(
            connection: ClusterConnection(
                server: server.baseURL, certificateAuthorityPEM: Array(authority.certificatePEM.utf8), origin: "node http2"),
            transport: HTTPTransport(configuration: .init(observer: observer)))
        let configMaps = APIResource(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)

        let list = try await client.list(configMaps, namespace: "default", options: ListOptions())
        #expect(list.resourceVersion == "10")
        #expect(list.items.map { $0["metadata"]["name"].stringValue } == ["settings", "other"])

        let watch = try await client.watch(configMaps, namespace: "default", options: WatchOptions(resourceVersion: "10"))
        var seen: [(WatchEvent.EventType, String?)] = []
        for try await event in watch {
            seen.append((event.type, event.object["data"]["mode"].stringValue))
        }
        #expect(seen.filter { $0.0 != .bookmark }.map(\.0) == [.added, .modified])
        #expect(seen.filter { $0.0 != .bookmark }.map(\.1) == ["c", "d"])
        #expect(watch.lastResourceVersion == "13", "the bookmark moves the resume point")

        let records = observer.records.withLock { $0 }
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0.httpVersion == "2" })
        #expect(records.map(\.newConnections).reduce(0, +) == 1)
    }
}
